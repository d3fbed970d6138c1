// RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) and RFC 4648 base32: the lab's own authenticator
// for the MFA probe, so the second factor is exercised as a user's app would. Pure.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32 (padding and case ignored); undefined on any other character. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.replace(/=+$/, '').toUpperCase();
  if (clean.length > 1024) return undefined;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 §5.3 HOTP of one counter, `digits` long. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const bin = ((mac[offset] ?? 0) & 0x7f) * 2 ** 24 + (mac[offset + 1] ?? 0) * 2 ** 16 + (mac[offset + 2] ?? 0) * 2 ** 8 + (mac[offset + 3] ?? 0);
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The TOTP code of the 30 s step holding `atMs`. */
export function totp(key: Buffer, atMs: number, digits = 6): string {
  return hotp(key, Math.floor(atMs / 30_000), digits);
}
