// OSDP v2.2 packet layer (§5): pure parse/serialize, no I/O, no crypto.
//
//   SOM  ADDR  LEN_LSB LEN_MSB  CTRL  [SCB: LEN TYPE DATA..]  CODE  DATA..  [MAC x4]  CKSUM | CRC_LSB CRC_MSB
//   0x53 a|0x80                 sqn|crc<<2|scb<<3
//
// LEN counts every byte from SOM through the check character(s). The MAC (Annex D.4) is present
// only for SCB types 0x15..0x18 and covers SOM through the last DATA byte, which is why
// serialization takes a MAC callback: the MAC input needs the final LEN.
import { VigilError } from '../../core/errors.ts';
import { osdpChecksum, osdpCrc16 } from './check.ts';
import {
  CTRL_CRC,
  CTRL_RESERVED_MASK,
  CTRL_SCB,
  CTRL_SEQUENCE_MASK,
  OSDP_HEADER_BYTES,
  OSDP_MAC_BYTES,
  OSDP_MAX_PACKET_BYTES,
  OSDP_MIN_PACKET_BYTES,
  OSDP_REPLY_BIT,
  OSDP_SOM,
  SCS,
  scbCarriesMac,
} from './constants.ts';

export interface OsdpSecurityBlock {
  /** SCS_11..SCS_18 (Annex D.1). */
  readonly type: number;
  /** SEC_BLK_DATA: one byte for SCS_11..14, empty for SCS_15..18. */
  readonly data: Buffer;
}

export interface OsdpPacket {
  /** 0x00..0x7E, or 0x7F broadcast; without the reply bit. */
  readonly address: number;
  readonly reply: boolean;
  readonly sequence: number;
  readonly useCrc: boolean;
  readonly scb: OsdpSecurityBlock | undefined;
  readonly code: number;
  readonly data: Buffer;
}

export interface ParsedOsdpPacket extends OsdpPacket {
  /** The truncated MAC when the SCB type carries one. */
  readonly mac: Buffer | undefined;
  /** SOM through the last DATA byte: the MAC input (Annex D.4). */
  readonly macInput: Buffer;
  /** The whole packet as received. */
  readonly raw: Buffer;
}

function malformed(reason: string): VigilError {
  return new VigilError('VIGIL_OSDP_MALFORMED', 'Malformed OSDP packet', { details: { reason } });
}

/** Expected SEC_BLK_LEN per SCB type: 3 for the handshake blocks, 2 for the MAC blocks. */
function expectedScbLength(type: number): number | undefined {
  if (type >= SCS.CHLNG && type <= SCS.RMAC_I) return 3;
  if (scbCarriesMac(type)) return 2;
  return undefined;
}

/**
 * Length of the packet starting at `start` if the header is plausible, 0 when more bytes are
 * needed to tell, -1 when it cannot be a packet. Used by the reassembler to resynchronise.
 */
export function framedLength(bytes: Uint8Array, start: number, end: number): number {
  if (end - start < 1) return 0;
  if (bytes[start] !== OSDP_SOM) return -1;
  if (end - start < 4) return 0;
  const length = (bytes[start + 2] ?? 0) | ((bytes[start + 3] ?? 0) << 8);
  if (length < OSDP_MIN_PACKET_BYTES || length > OSDP_MAX_PACKET_BYTES) return -1;
  return length;
}

/** True when the check character(s) of a complete packet of `length` bytes at `start` match. */
export function checkMatches(bytes: Uint8Array, start: number, length: number): boolean {
  const ctrl = bytes[start + 4] ?? 0;
  const end = start + length;
  if (ctrl & CTRL_CRC) {
    if (length < OSDP_MIN_PACKET_BYTES + 1) return false;
    const crc = (bytes[end - 2] ?? 0) | ((bytes[end - 1] ?? 0) << 8);
    return osdpCrc16(bytes, start, end - 2) === crc;
  }
  return osdpChecksum(bytes, start, end - 1) === bytes[end - 1];
}

/** Parse exactly one packet. Every length is checked against the buffer and the hard maximum. */
export function parsePacket(bytes: Buffer): ParsedOsdpPacket {
  if (bytes.length < OSDP_MIN_PACKET_BYTES) throw malformed('short');
  if (bytes.length > OSDP_MAX_PACKET_BYTES) throw malformed('too-long');
  if (bytes[0] !== OSDP_SOM) throw malformed('som');
  const length = bytes.readUInt16LE(2);
  if (length !== bytes.length) throw malformed('length');
  const ctrl = bytes.readUInt8(4);
  if (ctrl & CTRL_RESERVED_MASK) throw malformed('ctrl-reserved');
  const useCrc = (ctrl & CTRL_CRC) !== 0;
  if (!checkMatches(bytes, 0, length)) {
    throw new VigilError('VIGIL_OSDP_CHECK_FAILED', 'OSDP check character mismatch');
  }
  const trailer = useCrc ? 2 : 1;
  const bodyEnd = length - trailer;

  let offset = OSDP_HEADER_BYTES;
  let scb: OsdpSecurityBlock | undefined;
  let macBytes = 0;
  if (ctrl & CTRL_SCB) {
    if (offset + 2 > bodyEnd) throw malformed('scb-short');
    const scbLength = bytes.readUInt8(offset);
    const type = bytes.readUInt8(offset + 1);
    const expected = expectedScbLength(type);
    if (expected === undefined) throw malformed('scb-type');
    if (scbLength !== expected) throw malformed('scb-length');
    if (offset + scbLength >= bodyEnd) throw malformed('scb-overrun');
    scb = { type, data: Buffer.from(bytes.subarray(offset + 2, offset + scbLength)) };
    offset += scbLength;
    if (scbCarriesMac(type)) macBytes = OSDP_MAC_BYTES;
  }
  if (offset >= bodyEnd) throw malformed('no-code');
  const code = bytes.readUInt8(offset);
  const dataEnd = bodyEnd - macBytes;
  if (dataEnd < offset + 1) throw malformed('mac-overrun');
  const addressByte = bytes.readUInt8(1);
  return {
    address: addressByte & ~OSDP_REPLY_BIT & 0xff,
    reply: (addressByte & OSDP_REPLY_BIT) !== 0,
    sequence: ctrl & CTRL_SEQUENCE_MASK,
    useCrc,
    scb,
    code,
    data: Buffer.from(bytes.subarray(offset + 1, dataEnd)),
    mac: macBytes ? Buffer.from(bytes.subarray(dataEnd, bodyEnd)) : undefined,
    macInput: Buffer.from(bytes.subarray(0, dataEnd)),
    raw: Buffer.from(bytes),
  };
}

/** Computes the 4-byte MAC over SOM..DATA (already carrying the final LEN). */
export type MacFunction = (macInput: Buffer) => Buffer;

export function serializePacket(packet: OsdpPacket, mac?: MacFunction): Buffer {
  if (!Number.isInteger(packet.address) || packet.address < 0 || packet.address > 0x7f) throw malformed('address');
  if (!Number.isInteger(packet.sequence) || packet.sequence < 0 || packet.sequence > 3) throw malformed('sequence');
  if (!Number.isInteger(packet.code) || packet.code < 0 || packet.code > 0xff) throw malformed('code');
  const scb = packet.scb;
  let scbLength = 0;
  let macBytes = 0;
  if (scb !== undefined) {
    const expected = expectedScbLength(scb.type);
    if (expected === undefined || scb.data.length !== expected - 2) throw malformed('scb');
    scbLength = expected;
    if (scbCarriesMac(scb.type)) {
      if (mac === undefined) throw malformed('mac-missing');
      macBytes = OSDP_MAC_BYTES;
    }
  }
  const trailer = packet.useCrc ? 2 : 1;
  const length = OSDP_HEADER_BYTES + scbLength + 1 + packet.data.length + macBytes + trailer;
  if (length > OSDP_MAX_PACKET_BYTES) throw malformed('too-long');
  const out = Buffer.alloc(length);
  out[0] = OSDP_SOM;
  out[1] = packet.address | (packet.reply ? OSDP_REPLY_BIT : 0);
  out.writeUInt16LE(length, 2);
  out[4] = packet.sequence | (packet.useCrc ? CTRL_CRC : 0) | (scb !== undefined ? CTRL_SCB : 0);
  let offset = OSDP_HEADER_BYTES;
  if (scb !== undefined) {
    out[offset] = scbLength;
    out[offset + 1] = scb.type;
    scb.data.copy(out, offset + 2);
    offset += scbLength;
  }
  out[offset] = packet.code;
  packet.data.copy(out, offset + 1);
  offset += 1 + packet.data.length;
  if (macBytes && mac !== undefined) {
    const tag = mac(out.subarray(0, offset));
    if (tag.length < OSDP_MAC_BYTES) throw malformed('mac-short');
    tag.copy(out, offset, 0, OSDP_MAC_BYTES);
    offset += OSDP_MAC_BYTES;
  }
  if (packet.useCrc) out.writeUInt16LE(osdpCrc16(out, 0, offset), offset);
  else out[offset] = osdpChecksum(out, 0, offset);
  return out;
}
