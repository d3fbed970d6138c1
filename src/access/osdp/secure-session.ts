// An established OSDP Secure Channel session (Annex D.4–D.6): MAC chaining and payload
// encryption for one CP–PD pair. Each command MAC is chained on the last reply MAC and each reply
// MAC on the command MAC it answers, so a replayed, reordered or altered packet fails the MAC
// check (ACS-5.1.1.5 mutual authentication, ACS-5.2.1.11 authenticity in transit).
import { VigilError } from '../../core/errors.ts';
import { OSDP_MAC_BYTES, SCS } from './constants.ts';
import { serializePacket, type ParsedOsdpPacket } from './packet.ts';
import { computeMac, decryptData, encryptData, sameBytes, wipeKeys, type SessionKeys, AES_BLOCK } from './secure-crypto.ts';

export interface SecureMessage {
  readonly address: number;
  readonly sequence: number;
  readonly code: number;
  readonly data: Buffer;
}

export interface OpenedMessage {
  readonly code: number;
  readonly data: Buffer;
  /** True when DATA travelled encrypted (SCS_17 / SCS_18). */
  readonly encrypted: boolean;
}

function scError(reason: string): VigilError {
  return new VigilError('VIGIL_OSDP_SECURE_CHANNEL', 'OSDP secure channel failure', { details: { reason } });
}

export class OsdpSecureSession {
  readonly #keys: SessionKeys;
  /** Last command MAC (C-MAC), full 16 bytes. */
  #cMac: Buffer = Buffer.alloc(AES_BLOCK);
  /** Last reply MAC (R-MAC); starts as the initial R-MAC of osdp_RMAC_I. */
  #rMac: Buffer;
  #closed = false;

  constructor(keys: SessionKeys, rmacI: Buffer) {
    if (rmacI.length !== AES_BLOCK) throw scError('rmac-length');
    this.#keys = { sEnc: Buffer.from(keys.sEnc), sMac1: Buffer.from(keys.sMac1), sMac2: Buffer.from(keys.sMac2) };
    this.#rMac = Buffer.from(rmacI);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** CP: build an SCS_15 (no data) or SCS_17 (encrypted data) command. */
  sealCommand(message: SecureMessage): Buffer {
    return this.#seal(message, false);
  }

  /** PD: build an SCS_16 (no data) or SCS_18 (encrypted data) reply. */
  sealReply(message: SecureMessage): Buffer {
    return this.#seal(message, true);
  }

  /** PD: verify and decrypt a command. State is unchanged when this throws. */
  openCommand(packet: ParsedOsdpPacket): OpenedMessage {
    return this.#open(packet, false);
  }

  /** CP: verify and decrypt a reply. State is unchanged when this throws. */
  openReply(packet: ParsedOsdpPacket): OpenedMessage {
    return this.#open(packet, true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    wipeKeys(this.#keys);
    this.#cMac.fill(0);
    this.#rMac.fill(0);
  }

  #seal(message: SecureMessage, reply: boolean): Buffer {
    if (this.#closed) throw scError('closed');
    // Command: MAC IV = last R-MAC; reply: MAC IV = the C-MAC it answers. Encryption IVs are the
    // complements of the same values (D.6).
    const iv = reply ? this.#cMac : this.#rMac;
    const encrypted = message.data.length > 0;
    const type = reply ? (encrypted ? SCS.REPLY_MAC_ENC : SCS.REPLY_MAC) : encrypted ? SCS.CMD_MAC_ENC : SCS.CMD_MAC;
    const data = encrypted ? encryptData(this.#keys, iv, message.data) : Buffer.alloc(0);
    let mac: Buffer = Buffer.alloc(0);
    const bytes = serializePacket(
      {
        address: message.address,
        reply,
        sequence: message.sequence,
        useCrc: true,
        scb: { type, data: Buffer.alloc(0) },
        code: message.code,
        data,
      },
      (input) => {
        mac = computeMac(this.#keys, iv, input);
        return mac;
      },
    );
    if (reply) this.#rMac = mac;
    else this.#cMac = mac;
    return bytes;
  }

  #open(packet: ParsedOsdpPacket, reply: boolean): OpenedMessage {
    if (this.#closed) throw scError('closed');
    const scb = packet.scb;
    const macType = reply ? SCS.REPLY_MAC : SCS.CMD_MAC;
    const encType = reply ? SCS.REPLY_MAC_ENC : SCS.CMD_MAC_ENC;
    if (scb === undefined || (scb.type !== macType && scb.type !== encType)) throw scError('not-secured');
    if (packet.reply !== reply) throw scError('direction');
    if (packet.mac === undefined || packet.mac.length !== OSDP_MAC_BYTES) throw scError('mac-missing');
    const iv = reply ? this.#cMac : this.#rMac;
    const mac = computeMac(this.#keys, iv, packet.macInput);
    if (!sameBytes(mac.subarray(0, OSDP_MAC_BYTES), packet.mac)) throw scError('bad-mac');
    const encrypted = scb.type === encType;
    const data = encrypted ? decryptData(this.#keys, iv, packet.data) : Buffer.from(packet.data);
    if (reply) this.#rMac = mac;
    else this.#cMac = mac;
    return { code: packet.code, data, encrypted };
  }
}
