// Integrity of the built UI (ACS-5.1.2.1/2, mobile code integrity), run once after Vite wrote
// web/dist:
// 1. every <script src> and <link href> of index.html gets an SRI `integrity` attribute
//    (SHA-384, W3C Subresource Integrity §3.1), so the browser refuses a changed file too;
// 2. web/dist/manifest.json lists every file with its SHA-256; the server loads it at start and
//    refuses to serve a file whose bytes do not match (src/http/web.ts).
// The build also fails if index.html holds inline script or style: the CSP would block it.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'vigil-web-manifest/1';

export interface WebManifest {
  format: typeof MANIFEST_FORMAT;
  algorithm: 'sha256';
  files: Record<string, { sha256: string; bytes: number }>;
}

export function integrity(): Plugin {
  let outDir = '';
  return {
    name: 'vigil-integrity',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      addSubresourceIntegrity(outDir);
      writeManifest(outDir);
    },
  };
}

const TAG = /<(script|link)\b([^>]*)>/gi;

export function addSubresourceIntegrity(outDir: string): void {
  const file = path.join(outDir, 'index.html');
  const html = readFileSync(file, 'utf8');
  if (/<style\b/i.test(html) || /\sstyle\s*=/i.test(html)) throw new Error('index.html has inline style: the CSP forbids it');
  const out = html.replace(TAG, (whole: string, tag: string, attrs: string) => {
    const ref = /\s(?:src|href)\s*=\s*"([^"]+)"/i.exec(attrs)?.[1];
    if (tag.toLowerCase() === 'script' && ref === undefined) throw new Error('index.html has an inline script: the CSP forbids it');
    if (ref === undefined || ref.startsWith('data:')) return whole;
    if (/^[a-z]+:|^\/\//i.test(ref)) throw new Error(`index.html references ${ref}: everything must be served by Vigil itself`);
    if (/\sintegrity\s*=/i.test(attrs)) return whole;
    const bytes = readFileSync(path.join(outDir, ref.replace(/^\//, '')));
    const sri = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
    const closing = attrs.endsWith('/') ? '/' : '';
    const body = closing === '' ? attrs : attrs.slice(0, -1);
    return `<${tag}${body.trimEnd()} integrity="${sri}"${closing}>`;
  });
  writeFileSync(file, out);
}

function listFiles(dir: string, prefix = ''): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) names.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile() && rel !== MANIFEST_NAME) names.push(rel);
  }
  return names.sort();
}

export function writeManifest(outDir: string): WebManifest {
  const manifest: WebManifest = { format: MANIFEST_FORMAT, algorithm: 'sha256', files: {} };
  for (const rel of listFiles(outDir)) {
    const bytes = readFileSync(path.join(outDir, rel));
    manifest.files[rel] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  }
  writeFileSync(path.join(outDir, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
