// Events the OSDP state machines report to their owner. Tamper events are security events: the
// access controller wires them to alarms and the audit log (ACS-5.1.1.5, ACS-5.2.1.11,
// ACS-5.2.1.14). They carry no key material and no packet bytes (ACS-5.6.1.8).
import type { OsdpCommand } from './commands.ts';
import type { OsdpReply } from './replies.ts';

export type OsdpTamperReason =
  /** A secure packet whose MAC does not verify: altered in transit or a forged peer. */
  | 'bad-mac'
  /** A secure packet whose encrypted payload does not decrypt to a valid pad. */
  | 'decrypt-failed'
  /** A repeated or out-of-order sequence number while a secure channel is up (replay). */
  | 'replay'
  /** Plaintext where a secure channel is required or established. */
  | 'plaintext-refused'
  /** The peer left the secure channel (NAK 5/6, plaintext reply, or a reset mid-session). */
  | 'secure-channel-lost'
  /** The peer's cryptogram is wrong: it does not hold the key we expect (swapped reader?). */
  | 'cryptogram-mismatch'
  /** A handshake asked for SCBK-D outside install mode (ACS-5.1.1.1). */
  | 'default-key-refused';

export interface OsdpTamperEvent {
  readonly side: 'cp' | 'pd';
  /** The PD address concerned. */
  readonly address: number;
  readonly reason: OsdpTamperReason;
}

export type OsdpCpEvent =
  /** Secure channel established with the PD (and, after KEYSET, re-established under the new key). */
  | { readonly kind: 'online'; readonly address: number }
  /** The PD stopped answering after the configured retries. */
  | { readonly kind: 'offline'; readonly address: number }
  /** osdp_RAW card data arrived in a poll reply (§7.11). */
  | { readonly kind: 'card'; readonly address: number; readonly reader: number; readonly format: number; readonly bitCount: number; readonly data: Buffer }
  /** osdp_KEYPAD data arrived (§7.13). */
  | { readonly kind: 'keypad'; readonly address: number; readonly reader: number; readonly keys: Buffer }
  /** The answer to a command queued with enqueue(). */
  | { readonly kind: 'reply'; readonly address: number; readonly command: OsdpCommand['kind']; readonly reply: OsdpReply }
  /** The PD rejected a queued command (osdp_NAK other than a security condition). */
  | { readonly kind: 'nak'; readonly address: number; readonly command: OsdpCommand['kind']; readonly error: number }
  /** A new SCBK was installed on the PD via KEYSET: the owner must store it sealed. */
  | { readonly kind: 'key-installed'; readonly address: number };

export type TamperListener = (event: OsdpTamperEvent) => void;
