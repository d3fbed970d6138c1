// update-package: the offline analysis of an update file (--update-package), as a lab does it with
// binwalk (NVR-5.2.3.1b, CAM-T-sys-3..6 package protection, CAM-T-sys-7): entropy map, container
// signatures (a gzip is decompressed, bounded, and searched too), secrets and endpoints. Evidence
// names offsets and kinds, never a secret's value.
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { VigilError } from '../core/errors.ts';
import { containerSignature, describeRegion, EntropyMap, ENTROPY_BLOCK, isSecretKind, scanForSecrets, type ContainerSignature, type ScanHit } from './package-scan.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

export const MAX_PACKAGE_BYTES = 2 * 1024 * 1024 * 1024;
const CHUNK = 256 * ENTROPY_BLOCK;
const OVERLAP = ENTROPY_BLOCK;
const MAX_HITS = 200;
const MAX_INFLATED = 64 * 1024 * 1024;

export interface PackageAnalysis {
  size: number;
  entropy: EntropyMap;
  container: ContainerSignature | undefined;
  hits: ScanHit[];
  /** Hits inside the decompressed stream of a gzip container. */
  innerHits: ScanHit[];
  innerNote: string | undefined;
}

export async function analysePackage(file: string, signal: AbortSignal): Promise<PackageAnalysis> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `cannot read --update-package ${file}`, { cause: err });
  }
  try {
    const size = (await handle.stat()).size;
    if (size > MAX_PACKAGE_BYTES) throw new VigilError('VIGIL_ASSESS_INPUT_INVALID', `--update-package ${file} is larger than 2 GiB`);
    const entropy = new EntropyMap();
    const hits: ScanHit[] = [];
    let container: ContainerSignature | undefined;
    let tail = Buffer.alloc(0);
    const buffer = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < size; offset += CHUNK) {
      if (signal.aborted) throw new VigilError('VIGIL_ASSESS_CHECK_TIMEOUT', 'package analysis stopped by the time bound');
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, size - offset), offset);
      const chunk = buffer.subarray(0, bytesRead);
      if (offset === 0) container = containerSignature(chunk.subarray(0, 512));
      for (let at = 0; at < chunk.length; at += ENTROPY_BLOCK) entropy.add(offset + at, chunk.subarray(at, at + ENTROPY_BLOCK));
      // The previous chunk's last bytes are scanned again so a match across the boundary is found once.
      const text = Buffer.concat([tail, chunk]).toString('latin1');
      const base = offset - tail.length;
      if (hits.length < MAX_HITS) for (const h of scanForSecrets(text, base, text.length, MAX_HITS - hits.length)) if (!hits.some((x) => x.offset === h.offset && x.kind === h.kind)) hits.push(h);
      tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - OVERLAP)));
    }
    let innerHits: ScanHit[] = [];
    let innerNote: string | undefined;
    if (container?.name === 'gzip') {
      const packed = Buffer.alloc(Math.min(size, MAX_INFLATED));
      await handle.read(packed, 0, packed.length, 0);
      try {
        const inner = gunzipSync(packed, { maxOutputLength: MAX_INFLATED });
        innerHits = scanForSecrets(inner.toString('latin1'), 0, undefined, MAX_HITS);
        innerNote = `gzip stream unpacked without any key: ${inner.length} bytes`;
      } catch (err) {
        innerNote = `gzip stream could not be fully unpacked (${err instanceof Error ? err.message : String(err)}); the first ${MAX_INFLATED} bytes at most are examined`;
      }
    }
    return { size, entropy, container, hits, innerHits, innerNote };
  } finally {
    await handle.close();
  }
}

function hitList(hits: readonly ScanHit[], where: string): string[] {
  return hits.slice(0, 12).map((h) => `${h.kind} at ${where}0x${h.offset.toString(16)} (${h.label})`).concat(hits.length > 12 ? [`… ${hits.length - 12} more`] : []);
}

export function packageFindings(a: PackageAnalysis, file: string): Finding[] {
  const plain = a.entropy.plainRegionsAfterHeader();
  const regions = a.entropy.regions.slice(0, 16).map(describeRegion).join('; ') + (a.entropy.regions.length > 16 || a.entropy.truncated ? '; …' : '');
  const judged = a.entropy.lowBlocks + a.entropy.highBlocks;
  const unpackable = a.container !== undefined;
  const encrypted = judged > 0 && plain.length === 0 && !unpackable;
  const protection: ClauseRef[] = [
    { id: 'NVR-5.2.3.1b', partial: 'that the cipher is FIPS-approved is the vendor\'s declaration' },
    { id: 'CAM-T-sys-3..6', partial: 'only the package protection is shown here; the update function, the online TLS path and the rejection of a tampered package need the device' },
  ];
  const entropyFinding: Finding = {
    id: 'update-package.entropy',
    check: 'update-package',
    title: 'The update package is encrypted throughout (entropy map, no unpackable container)',
    status: judged === 0 ? 'manual' : encrypted ? 'pass' : 'fail',
    clauses: protection,
    evidence: `${file}, ${a.size} bytes, ${a.entropy.blocks} blocks of 4 KiB (${a.entropy.highBlocks} high, ${a.entropy.lowBlocks} plain)${a.entropy.firstBlockLow ? '; a plain header in the first block' : ''}${unpackable ? `; a ${a.container?.name ?? ''} container at offset 0: it unpacks without any key${a.innerNote === undefined ? '' : ` (${a.innerNote})`}` : ''}${plain.length > 0 ? `; plain regions: ${plain.slice(0, 8).map(describeRegion).join('; ')}` : ''}. Map: ${regions}`,
    ...(judged === 0 || encrypted ? {} : { severity: 'high' as const, fix: 'Encrypt the whole package payload (AES-256-GCM for the device key) and sign it; only a small metadata header may stay plain.' }),
  };
  const secrets = a.hits.filter((h) => isSecretKind(h.kind));
  const innerSecrets = a.innerHits.filter((h) => isSecretKind(h.kind));
  const found = [...hitList(secrets, ''), ...hitList(innerSecrets, 'unpacked offset ')];
  const secretFinding: Finding = {
    id: 'update-package.secrets',
    check: 'update-package',
    title: 'No private keys, passwords, tokens, personal data or credentials in URLs inside the package',
    status: found.length > 0 ? 'fail' : 'pass',
    clauses: [{ id: 'NVR-5.2.3.1b' }, { id: 'CAM-T-sys-7' }],
    evidence: found.length > 0 ? `found: ${found.join('; ')}` : `none found in ${a.size} bytes${a.innerNote === undefined ? '' : ` nor in the unpacked stream (${a.innerNote})`}${encrypted ? ' (the payload is encrypted: only its plain header is readable)' : ''}`,
    ...(found.length > 0 ? { severity: 'critical' as const, fix: 'Remove keys and credentials from the package; provision secrets per device at first run; encrypt the package.' } : {}),
  };
  const endpoints = [...a.hits, ...a.innerHits].filter((h) => !isSecretKind(h.kind));
  const distinct = [...new Set(endpoints.map((h) => h.label))];
  const endpointFinding: Finding = {
    id: 'update-package.endpoints',
    check: 'update-package',
    title: 'No unexpected IP addresses or URLs inside the package',
    status: distinct.length === 0 ? 'pass' : 'manual',
    clauses: [{ id: 'CAM-T-sys-7' }],
    evidence: distinct.length === 0 ? 'no IP address or URL found' : `to compare with the vendor's declaration of connected servers: ${distinct.slice(0, 20).join(', ')}${distinct.length > 20 ? ', …' : ''} (first at 0x${(endpoints[0]?.offset ?? 0).toString(16)})`,
  };
  return [entropyFinding, secretFinding, endpointFinding];
}

export async function runUpdatePackageCheck(ctx: AssessContext): Promise<Finding[]> {
  if (ctx.updatePackage === undefined) {
    return [{
      id: 'update-package.input',
      check: 'update-package',
      title: 'An update package to analyse',
      status: 'manual',
      clauses: [{ id: 'NVR-5.2.3.1b' }, { id: 'CAM-T-sys-3..6' }, { id: 'CAM-T-sys-7' }],
      evidence: 'no update package given (--update-package FILE): the lab analyses the vendor\'s file',
    }];
  }
  ctx.progress(`update-package: analysing ${ctx.updatePackage}`);
  return packageFindings(await analysePackage(ctx.updatePackage, ctx.signal), ctx.updatePackage);
}
