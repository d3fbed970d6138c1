// What a lab does to an update file with binwalk (seed 001, "韌體更新檔案應無法被拆解", CAM-T-sys-4/7):
// an entropy map per 4 KiB block (encrypted or compressed data is near 8 bits/byte, text and code
// far below), container signatures (a gzip or tar unpacks without any key), and a search for
// secrets (private keys, password assignments, API tokens, e-mail addresses, URLs carrying
// credentials) and for addresses the vendor must declare. Pure functions; the I/O is the check's.

export const ENTROPY_BLOCK = 4096;
/** binwalk -E calls a rising edge at 0.95 (7.6 bits/byte); 7.5 leaves room for short blocks. */
export const HIGH_ENTROPY_BITS = 7.5;
/** Blocks shorter than this cannot show high entropy (at most log2(n) bits): not judged. */
export const MIN_JUDGED_BLOCK = 256;

/** Shannon entropy in bits per byte. */
export function shannonEntropy(data: Uint8Array): number {
  if (data.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (const b of data) counts[b] = (counts[b] ?? 0) + 1;
  let bits = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / data.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * The "encrypted-looking" threshold for a block of n bytes: random data of n bytes falls short of
 * 8 bits by about 255/(2 n ln 2) (Miller–Madow), so short tail blocks get a lower bar.
 */
export function highEntropyThreshold(n: number): number {
  return HIGH_ENTROPY_BITS - 255 / (2 * Math.max(n, 1) * Math.LN2) + 255 / (2 * ENTROPY_BLOCK * Math.LN2);
}

export interface EntropyRegion {
  start: number;
  end: number;
  kind: 'high' | 'low' | 'short';
  /** Lowest and highest block entropy in the region. */
  min: number;
  max: number;
}

/** Folds per-block entropies into runs of the same kind (like binwalk's rising/falling edges). */
export class EntropyMap {
  readonly regions: EntropyRegion[] = [];
  blocks = 0;
  lowBlocks = 0;
  highBlocks = 0;
  /** Whether block 0 (a header with metadata, at most 4 KiB) was low. */
  firstBlockLow = false;
  private readonly maxRegions: number;
  truncated = false;

  constructor(maxRegions = 4096) {
    this.maxRegions = maxRegions;
  }

  add(offset: number, block: Uint8Array): void {
    const bits = shannonEntropy(block);
    const kind: EntropyRegion['kind'] = block.length < MIN_JUDGED_BLOCK ? 'short' : bits >= highEntropyThreshold(block.length) ? 'high' : 'low';
    if (kind === 'low') {
      this.lowBlocks++;
      if (offset === 0) this.firstBlockLow = true;
    }
    if (kind === 'high') this.highBlocks++;
    this.blocks++;
    const last = this.regions[this.regions.length - 1];
    if (last !== undefined && last.kind === kind && last.end === offset) {
      last.end = offset + block.length;
      last.min = Math.min(last.min, bits);
      last.max = Math.max(last.max, bits);
    } else if (this.regions.length < this.maxRegions) {
      this.regions.push({ start: offset, end: offset + block.length, kind, min: bits, max: bits });
    } else this.truncated = true;
  }

  /** Plain regions other than a header block at offset 0. */
  plainRegionsAfterHeader(): EntropyRegion[] {
    return this.regions.filter((r) => r.kind === 'low' && !(r.start === 0 && r.end <= ENTROPY_BLOCK));
  }
}

export function describeRegion(r: EntropyRegion): string {
  const range = r.min === r.max ? r.min.toFixed(2) : `${r.min.toFixed(2)}-${r.max.toFixed(2)}`;
  return `0x${r.start.toString(16)}-0x${r.end.toString(16)} ${r.kind === 'high' ? 'encrypted/compressed-looking' : r.kind === 'low' ? 'plain' : 'too short to judge'} (${range} bits/byte)`;
}

export interface ContainerSignature {
  name: string;
  /** Compression without a key: high entropy, yet it unpacks. */
  compressed: boolean;
}

const SIGNATURES: Array<{ at: number; bytes: Buffer; sig: ContainerSignature }> = [
  { at: 0, bytes: Buffer.from([0x1f, 0x8b, 0x08]), sig: { name: 'gzip', compressed: true } },
  { at: 0, bytes: Buffer.from('PK\x03\x04', 'latin1'), sig: { name: 'zip', compressed: true } },
  { at: 0, bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), sig: { name: 'xz', compressed: true } },
  { at: 0, bytes: Buffer.from('BZh', 'latin1'), sig: { name: 'bzip2', compressed: true } },
  { at: 0, bytes: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), sig: { name: 'zstd', compressed: true } },
  { at: 0, bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), sig: { name: '7-zip', compressed: true } },
  { at: 0, bytes: Buffer.from('hsqs', 'latin1'), sig: { name: 'squashfs', compressed: true } },
  { at: 0, bytes: Buffer.from([0x27, 0x05, 0x19, 0x56]), sig: { name: 'U-Boot uImage', compressed: false } },
  { at: 0, bytes: Buffer.from('\x7fELF', 'latin1'), sig: { name: 'ELF executable', compressed: false } },
  { at: 0, bytes: Buffer.from('070701', 'latin1'), sig: { name: 'cpio', compressed: false } },
  { at: 257, bytes: Buffer.from('ustar', 'latin1'), sig: { name: 'tar', compressed: false } },
];

/** A container format recognised at its fixed offset in the first 512 bytes. */
export function containerSignature(head: Uint8Array): ContainerSignature | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return SIGNATURES.find((s) => b.length >= s.at + s.bytes.length && b.subarray(s.at, s.at + s.bytes.length).equals(s.bytes))?.sig;
}

export type SecretKind = 'private-key' | 'password' | 'password-hash' | 'api-token' | 'e-mail' | 'url-with-credentials';
export type EndpointKind = 'ip-address' | 'url';

export interface ScanHit {
  offset: number;
  kind: SecretKind | EndpointKind;
  /** Safe to print: a key type, a token family, a host — never the secret itself. */
  label: string;
}

const SECRET_PATTERNS: Array<{ kind: SecretKind; re: RegExp; label: (m: RegExpExecArray) => string }> = [
  { kind: 'private-key', re: /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g, label: (m) => `PEM "${m[1] ?? 'PRIVATE KEY'}"` },
  { kind: 'private-key', re: /PuTTY-User-Key-File-\d: [a-z0-9-]{3,32}/g, label: () => 'PuTTY private key' },
  { kind: 'password-hash', re: /(?<![A-Za-z0-9_])[a-z_][a-z0-9_-]{0,31}:\$(?:1|2[aby]|5|6|y)\$[^:\s]{8,}/g, label: () => 'crypt(3) password hash (passwd/shadow entry)' },
  {
    kind: 'password',
    re: /(?<![A-Za-z])(pass(?:word|wd|phrase)?|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|client[_-]?secret)["']?\s*[:=]\s*["']?(?!(?:null|none|true|false|undefined)\b|\$\{|\{\{|%s)([^\s"'<>;,&]{4,})/gi,
    label: (m) => `"${(m[1] ?? '').toLowerCase()}" assigned a value`,
  },
  { kind: 'api-token', re: /(?<![A-Za-z0-9])(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|[sr]k_live_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36}|glpat-[A-Za-z0-9_-]{20})/g, label: (m) => `token of the form ${(m[0] ?? '').slice(0, 4)}…` },
  { kind: 'api-token', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, label: () => 'JSON Web Token' },
  { kind: 'url-with-credentials', re: /(?<![A-Za-z0-9+.-])([a-z][a-z0-9+.-]{1,15}):\/\/[^\s:/@"'<>]{1,64}:[^\s@/"'<>]{1,128}@([A-Za-z0-9.-]{1,253})/gi, label: (m) => `${m[1] ?? ''}:// URL with a user and password for host ${m[2] ?? '?'}` },
  { kind: 'e-mail', re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,12})(?![A-Za-z0-9-])/g, label: (m) => `e-mail address at domain ${m[1] ?? '?'}` },
];

const ENDPOINT_PATTERNS: Array<{ kind: EndpointKind; re: RegExp; label: (m: RegExpExecArray) => string | undefined }> = [
  {
    kind: 'ip-address',
    re: /(?<![0-9.])((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})(?![0-9.])/g,
    label: (m) => (/^(127\.|0\.0\.0\.0$|255\.255\.255\.255$)/.test(m[1] ?? '') ? undefined : `IPv4 ${m[1] ?? ''}`),
  },
  { kind: 'url', re: /\b(https?|ftp|rtsps?|wss?):\/\/([A-Za-z0-9.-]{1,253})/g, label: (m) => (/^(localhost|127\.|[^.]*\.(invalid|test|example)$|example\.(com|org|net)$)/i.test(m[2] ?? '') ? undefined : `${m[1] ?? ''}://${m[2] ?? ''}`) },
];

/** Addresses that stand for nobody (RFC 2606 / 6761): not personal data. */
function reservedDomain(domain: string): boolean {
  return /(^|\.)(example\.(com|org|net)|invalid|test|localhost)$/i.test(domain);
}

/**
 * Secrets and endpoints in `text` (bytes read as latin1, so offsets are byte offsets) at
 * `baseOffset`; at most `max` hits. Only matches starting before `limit` count (the rest of the
 * text is an overlap the next chunk scans again).
 */
export function scanForSecrets(text: string, baseOffset: number, limit = text.length, max = 200): ScanHit[] {
  const hits: ScanHit[] = [];
  for (const group of [SECRET_PATTERNS, ENDPOINT_PATTERNS] as const) {
    for (const p of group) {
      p.re.lastIndex = 0;
      for (let m = p.re.exec(text); m !== null && hits.length < max; m = p.re.exec(text)) {
        if (m.index >= limit) break;
        if (p.kind === 'e-mail' && reservedDomain(m[1] ?? '')) continue;
        const label = p.label(m);
        if (label !== undefined) hits.push({ offset: baseOffset + m.index, kind: p.kind, label });
      }
    }
  }
  return hits.sort((a, b) => a.offset - b.offset);
}

export function isSecretKind(kind: ScanHit['kind']): kind is SecretKind {
  return kind !== 'ip-address' && kind !== 'url';
}
