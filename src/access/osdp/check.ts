// OSDP message check characters (§5.6, Annex A): CRC-16/AUG-CCITT (poly 0x1021, init 0x1D0F,
// no reflection, no final XOR; sent LSB first) or the legacy 8-bit two's-complement checksum.

const CRC_TABLE: Uint16Array = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
}

export function osdpCrc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0x1d0f;
  for (let i = start; i < end; i++) {
    const index = ((crc >>> 8) ^ (bytes[i] ?? 0)) & 0xff;
    crc = ((crc << 8) ^ (CRC_TABLE[index] ?? 0)) & 0xffff;
  }
  return crc;
}

/** 8-bit checksum: the byte that makes the sum of the message and itself 0 mod 256. */
export function osdpChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}
