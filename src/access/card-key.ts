// The one card-number convention shared by the platform and the edge (issue #6). The platform
// stores a credential as a format and ONE decimal card number; a controller looks cards up by
// the key it builds from what the reader sends. Both sides build the key here and nowhere else.
//
// Convention: for a Wiegand format with a facility code, the platform's card number is the
// decimal value of the card's data bits between the parity bits — facility code and card number
// together, exactly as they follow each other on the card (the number printed on many cards as
// the "internal" or "full" number; `vigil reader --simulate` takes the same value as
// `card PAYLOAD`). The key splits that value into the fields the controller decodes:
//
//   h10301 (26-bit)  payload 24 bits = FC(8)  CN(16)   key h10301:FC:CN   e.g. 5898564 → h10301:90:324
//   c1k35  (35-bit)  payload 32 bits = FC(12) CN(20)   key c1k35:FC:CN
//   h10304 (37-bit)  payload 35 bits = FC(16) CN(19)   key h10304:FC:CN
//   h10302 (37-bit)  no facility code, CN(35)          key h10302:CN
//   raw              decimal number as given            key raw:NUMBER
//
// A number wider than its format's payload cannot be on any card of that format: it has no key
// and is never published to a controller (the platform still refuses it online as unknown).
// H10302 and raw credentials get keys, but today's reader decoder turns every 37-bit read into
// H10304 and non-Wiegand reads into raw:BITS:HEX, so they do not match a read at the edge yet.
import type { WiegandCredential } from './wiegand/formats.ts';

const SPLIT: Readonly<Record<string, { facilityBits: number; cardBits: number }>> = {
  h10301: { facilityBits: 8, cardBits: 16 },
  c1k35: { facilityBits: 12, cardBits: 20 },
  h10304: { facilityBits: 16, cardBits: 19 },
};
const DIGITS = /^[0-9]{1,20}$/;

/** The controller key of a platform credential (format + decimal card number), or null. */
export function credentialKey(format: string, cardNumber: string): string | null {
  if (!DIGITS.test(cardNumber)) return null;
  const value = BigInt(cardNumber);
  const split = SPLIT[format];
  if (split !== undefined) {
    if (value >= 1n << BigInt(split.facilityBits + split.cardBits)) return null;
    const cn = value & ((1n << BigInt(split.cardBits)) - 1n);
    const fc = value >> BigInt(split.cardBits);
    return `${format}:${fc}:${cn}`;
  }
  if (format === 'h10302') return value < 1n << 35n ? `h10302:${value}` : null;
  if (format === 'raw') return `raw:${value}`;
  return null;
}

/** The controller key of a decoded Wiegand read (reader side). */
export function wiegandKey(card: WiegandCredential): string {
  return `${card.format.toLowerCase()}:${card.facilityCode}:${card.cardNumber}`;
}

/** The platform card number of a facility code and card number (the inverse of credentialKey). */
export function cardNumberOf(format: 'h10301' | 'c1k35' | 'h10304', facilityCode: number, cardNumber: number): string {
  const split = SPLIT[format];
  if (split === undefined) throw new RangeError(`no facility split for ${format}`);
  return ((BigInt(facilityCode) << BigInt(split.cardBits)) | BigInt(cardNumber)).toString();
}
