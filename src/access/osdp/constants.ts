// OSDP v2.2 (SIA OSDP / IEC 60839-11-5) constants: framing (§5), command codes (§6, Table 5),
// reply codes (§7, Table 6), NAK error codes (§7.3, Table 38) and Security Control Block types
// (Annex D.1). Plain `as const` objects: type stripping allows no enums.

/** Start of message (§5.1). */
export const OSDP_SOM = 0x53;
/** Broadcast address (§5.2): every PD acts on it; replies still carry the PD's own address. */
export const OSDP_BROADCAST = 0x7f;
/** Bit 7 of the address byte marks a PD → CP reply (§5.2). */
export const OSDP_REPLY_BIT = 0x80;
/** Bytes from SOM through CTRL (§5). */
export const OSDP_HEADER_BYTES = 5;
/** Truncated MAC carried in SCS_15..SCS_18 messages (Annex D.4). */
export const OSDP_MAC_BYTES = 4;
/**
 * Hard cap on a whole packet, SOM through CRC. The 16-bit LEN field could claim 65535; no PD we
 * drive advertises a receive buffer above 1024 (PDCAP function 10), so anything longer is refused
 * before a byte of it is buffered (ACS-5.4.1.1, ACS-5.2.1.5).
 */
export const OSDP_MAX_PACKET_BYTES = 1024;
/** SOM, ADDR, LEN(2), CTRL, CODE and a 1-byte checksum: the smallest well-formed packet. */
export const OSDP_MIN_PACKET_BYTES = 7;

/** CTRL byte (§5.4). Bits 4..6 are reserved (0); bit 7 was multi-part in v1 and is refused. */
export const CTRL_SEQUENCE_MASK = 0x03;
export const CTRL_CRC = 0x04;
export const CTRL_SCB = 0x08;
export const CTRL_RESERVED_MASK = 0xf0;

export const OSDP_COMMAND = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  RSTAT: 0x67,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
} as const;
export type OsdpCommandName = keyof typeof OSDP_COMMAND;

export const OSDP_REPLY = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RSTATR: 0x4b,
  RAW: 0x50,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
} as const;
export type OsdpReplyName = keyof typeof OSDP_REPLY;

/** osdp_NAK error codes (§7.3). */
export const OSDP_NAK = {
  NONE: 0x00,
  CHECK_CHARACTER: 0x01,
  COMMAND_LENGTH: 0x02,
  UNKNOWN_COMMAND: 0x03,
  UNEXPECTED_SEQUENCE: 0x04,
  SECURITY_CONDITIONS: 0x05,
  ENCRYPTION_REQUIRED: 0x06,
  BIO_TYPE: 0x07,
  BIO_FORMAT: 0x08,
  UNABLE_TO_PROCESS: 0x09,
} as const;

/** Security Control Block types (Annex D.1). */
export const SCS = {
  CHLNG: 0x11,
  CCRYPT: 0x12,
  SCRYPT: 0x13,
  RMAC_I: 0x14,
  CMD_MAC: 0x15,
  REPLY_MAC: 0x16,
  CMD_MAC_ENC: 0x17,
  REPLY_MAC_ENC: 0x18,
} as const;

/** SCB data byte of SCS_11..SCS_13: which key the handshake uses (Annex D.3). */
export const SCB_KEY_DEFAULT = 0x00;
export const SCB_KEY_SCBK = 0x01;
/** SCB data byte of SCS_14: the PD accepted (0x01) or refused (0xFF) the server cryptogram. */
export const SCB_RMAC_ACCEPTED = 0x01;
export const SCB_RMAC_REFUSED = 0xff;

/** True for SCB types whose message carries a 4-byte MAC before the CRC. */
export function scbCarriesMac(type: number): boolean {
  return type >= SCS.CMD_MAC && type <= SCS.REPLY_MAC_ENC;
}

/** Next CP sequence number: 0 only starts a conversation, then 1, 2, 3, 1, ... (§5.4). */
export function nextSequence(sequence: number): number {
  return sequence >= 3 ? 1 : sequence + 1;
}
