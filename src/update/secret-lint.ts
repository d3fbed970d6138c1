// Vendor-side lint: an update package must carry no credentials, private keys or personal data
// (NVR-5.2.3.1b, CAM-T-sys-7). `vigil update build` scans every input file and refuses the build
// if one matches; the finding names the file, the rule and the offset, never the matched text.
// Scanning is streaming: each chunk is searched together with the tail of the previous one, so
// a secret split across a chunk boundary is still found, and memory stays bounded.

export interface SecretRule {
  readonly name: string;
  readonly pattern: RegExp;
}

export const SECRET_RULES: readonly SecretRule[] = [
  // PKCS#8, SEC1 (EC), PKCS#1 (RSA), OpenSSH, encrypted PKCS#8: all "… PRIVATE KEY-----".
  { name: 'pem-private-key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  // key=value as in .env, ini and query strings (no spaces around "=": code formatted with
  // spaces, `password = readSecret()`, is not a stored secret).
  // The value must look like text (4+ printable ASCII): binary data hits "pwd=" by chance.
  { name: 'credential-assignment', pattern: /(?:^|[^A-Za-z0-9_])(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token|client_?secret|private_?key)=(?:(?![&'"<>])[\x21-\x7e]){4,}/i },
  // Placeholders in docs and redacted logs ("...", "***", "[redacted]", "<password>") are not secrets.
  { name: 'credential-json', pattern: /"(?:password|passwd|secret|api_?key|access_?token|client_?secret|private_?key)"\s*:\s*"(?!(?:\.{3}|…|\*+|\[redacted\]|<[^">]*>)")[^"\s]+"/i },
  { name: 'url-with-credentials', pattern: /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s/:@]{1,64}:[^\s/@]{1,64}@/i },
  { name: 'aws-access-key-id', pattern: /\bAKIA[0-9A-Z]{16}\b/ },
];

/** Longest text a rule needs to see at once; the tail carried between chunks. */
const OVERLAP_CHARS = 256;

export interface SecretFinding {
  path: string;
  rule: string;
  /** Approximate byte offset of the match in the file. */
  offset: number;
}

/** Scans one file's bytes chunk by chunk; reports the first finding, if any. */
export class SecretScanner {
  readonly #path: string;
  #tail = '';
  #consumed = 0;
  #finding: SecretFinding | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  get finding(): SecretFinding | undefined {
    return this.#finding;
  }

  update(chunk: Buffer): void {
    if (this.#finding !== undefined) return;
    // latin1 maps each byte to one character: binary-safe, and offsets stay byte offsets.
    const text = this.#tail + chunk.toString('latin1');
    const base = this.#consumed - this.#tail.length;
    for (const rule of SECRET_RULES) {
      const m = rule.pattern.exec(text);
      if (m !== null) {
        this.#finding = { path: this.#path, rule: rule.name, offset: base + m.index };
        return;
      }
    }
    this.#consumed += chunk.length;
    this.#tail = text.slice(-OVERLAP_CHARS);
  }
}

export function scanBytesForSecrets(path: string, bytes: Buffer): SecretFinding | undefined {
  const s = new SecretScanner(path);
  s.update(bytes);
  return s.finding;
}
