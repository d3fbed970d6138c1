// Serves the built web UI (web/dist, made by `npm run build:web`; the server never builds it).
// Mobile code integrity (ACS-5.1.2.1/2): the build writes web/dist/manifest.json with the SHA-256
// of every file; this plugin loads it at start, checks every file then, and checks again on
// every request the exact bytes it is about to send. A file that differs (or is missing) is
// never served: the answer is a 500 and a critical `web.integrity` alarm. The page itself also
// carries SRI attributes, so the browser checks the script and style it loads a second time.
// Public before login and before setup (access.setup()): the UI must load to do either.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { VigilError } from '../core/errors.ts';
import { access } from './access.ts';
import { ErrorBody } from './errors.ts';
import type { RouteDeps } from './services.ts';

export const WEB_DIST_DIR = path.resolve(import.meta.dirname, '../../web/dist');
export const WEB_MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 'vigil-web-manifest/1';
const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_FILES = 2000;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** What a manifest may name: index.html and flat files under assets/ — nothing else, no `..`. */
const FILE_PATH = /^(?:assets\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const ASSET_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

type Manifest =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ready'; files: ReadonlyMap<string, { sha256: string; bytes: number }> };

export interface WebUiOptions extends RouteDeps {
  /** Where the built UI is; tests point it elsewhere. Default: web/dist of this checkout. */
  distDir?: string;
}

const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });
const AssetParams = Type.Object({ name: Type.String({ pattern: ASSET_NAME }) }, { additionalProperties: false });
const Responses = { 200: Binary, '4xx': ErrorBody, '5xx': ErrorBody };

export async function webUiRoutes(app: FastifyInstance, options: WebUiOptions): Promise<void> {
  const dir = options.distDir ?? WEB_DIST_DIR;
  const { alarms } = options.services;
  const manifest = await loadManifest(dir);

  const integrityFailure = (file: string, problem: string): void => {
    app.log.error({ file, problem }, 'web UI: file refused, it does not match the build manifest');
    alarms.raise({
      type: 'web.integrity',
      severity: 'critical',
      source: 'web',
      message: `web UI file ${file} was refused: ${problem} (ACS-5.1.2.1); rebuild or reinstall the UI`,
      dedupeKey: `web.integrity|${file}`,
      details: { file, problem },
    });
  };

  if (manifest.kind === 'missing') {
    app.log.warn({ dir }, 'web UI: not built (run `npm run build:web`); the API works without it');
  } else if (manifest.kind === 'invalid') {
    integrityFailure(WEB_MANIFEST, manifest.reason);
  } else {
    // At start: every listed file, so a changed bundle is alarmed before anyone loads it.
    for (const file of manifest.files.keys()) {
      const checked = await readVerified(dir, file, manifest.files);
      if (!checked.ok) integrityFailure(file, checked.problem);
    }
  }

  const serve = async (file: string, reply: FastifyReply): Promise<FastifyReply> => {
    if (manifest.kind === 'missing') throw new VigilError('VIGIL_WEB_NOT_BUILT', 'the web UI is not built: run `npm run build:web` (the API at /api/v1 works without it)');
    if (manifest.kind === 'invalid') throw new VigilError('VIGIL_WEB_INTEGRITY', 'the web UI manifest is invalid; nothing of the UI is served');
    if (!manifest.files.has(file)) throw new VigilError('VIGIL_NOT_FOUND', 'no such file in the web UI');
    const checked = await readVerified(dir, file, manifest.files);
    if (!checked.ok) {
      integrityFailure(file, checked.problem);
      throw new VigilError('VIGIL_WEB_INTEGRITY', `the web UI file ${file} failed its integrity check and is not served`);
    }
    const immutable = file.startsWith('assets/'); // content-hashed names: a change is a new name
    return reply
      .header('content-type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(checked.bytes);
  };

  app.get('/', {
    config: { access: access.setup() },
    schema: { hide: true, response: Responses },
  }, async (_request, reply) => serve('index.html', reply));

  app.get<{ Params: Static<typeof AssetParams> }>('/assets/:name', {
    config: { access: access.setup() },
    schema: { hide: true, params: AssetParams, response: Responses },
  }, async (request, reply) => serve(`assets/${request.params.name}`, reply));
}

async function loadManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    const bytes = await readFile(path.join(dir, WEB_MANIFEST));
    if (bytes.length > MAX_MANIFEST_BYTES) return { kind: 'invalid', reason: 'manifest too large' };
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'manifest is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'invalid', reason: 'manifest is not an object' };
  const { format, algorithm, files } = parsed as { format?: unknown; algorithm?: unknown; files?: unknown };
  if (format !== MANIFEST_FORMAT || algorithm !== 'sha256') return { kind: 'invalid', reason: 'unknown manifest format' };
  if (typeof files !== 'object' || files === null) return { kind: 'invalid', reason: 'manifest lists no files' };
  const entries = Object.entries(files);
  if (entries.length > MAX_FILES) return { kind: 'invalid', reason: 'manifest lists too many files' };
  const map = new Map<string, { sha256: string; bytes: number }>();
  for (const [file, entry] of entries) {
    if (!FILE_PATH.test(file)) return { kind: 'invalid', reason: `manifest names an unsafe path` };
    const { sha256, bytes } = (typeof entry === 'object' && entry !== null ? entry : {}) as { sha256?: unknown; bytes?: unknown };
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256) || typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0 || bytes > MAX_FILE_BYTES) {
      return { kind: 'invalid', reason: `manifest entry for ${file} is malformed` };
    }
    map.set(file, { sha256, bytes });
  }
  if (!map.has('index.html')) return { kind: 'invalid', reason: 'manifest lists no index.html' };
  return { kind: 'ready', files: map };
}

type Verified = { ok: true; bytes: Buffer } | { ok: false; problem: string };

/** Reads the file once and checks exactly those bytes: no window between check and send. */
async function readVerified(dir: string, file: string, files: ReadonlyMap<string, { sha256: string; bytes: number }>): Promise<Verified> {
  const expected = files.get(file);
  if (expected === undefined) return { ok: false, problem: 'not in the manifest' };
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, problem: 'file missing' };
    throw err;
  }
  if (bytes.length !== expected.bytes) return { ok: false, problem: `size ${bytes.length} differs from the manifest (${expected.bytes})` };
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected.sha256) return { ok: false, problem: `SHA-256 ${actual} differs from the manifest` };
  return { ok: true, bytes };
}
