// OSDP Peripheral Device (reader) state machine, sans I/O: bytes in, reply bytes out.
//
// Policy (ACS-5.1.1.5, ACS-5.1.1.1, design §6): nothing but the Secure Channel handshake is
// answered in plaintext unless `allowPlaintext` is set; SCBK-D is accepted only in install mode;
// KEYSET only inside an established channel with an encrypted payload. Any MAC failure, replay
// or plaintext inside a session closes the session, answers a plain NAK and reports tamper.
import { randomBytes } from 'node:crypto';
import { VigilError, isVigilError } from '../../core/errors.ts';
import { KEYSET_TYPE_SCBK, decodeCommand, type OsdpCommand } from './commands.ts';
import { OSDP_BROADCAST, OSDP_COMMAND, OSDP_NAK, SCB_KEY_DEFAULT, SCB_KEY_SCBK, SCB_RMAC_ACCEPTED, SCS, scbCarriesMac } from './constants.ts';
import type { OsdpTamperReason, TamperListener } from './events.ts';
import { nakCodeOf } from './message-error.ts';
import { parsePacket, serializePacket, type ParsedOsdpPacket } from './packet.ts';
import { OsdpFrameReassembler } from './reassembler.ts';
import { encodeReply, type OsdpReply, type PdCapability, type PdIdentity } from './replies.ts';
import {
  RND_BYTES,
  SCBK_BYTES,
  clientCryptogram,
  defaultInstallKey,
  deriveSessionKeys,
  initialRmac,
  isDefaultInstallKey,
  sameBytes,
  serverCryptogram,
  type SessionKeys,
} from './secure-crypto.ts';
import { OsdpSecureSession, type OpenedMessage } from './secure-session.ts';

/** Annex D: a PD drops the secure channel after this long without a valid command. */
const SESSION_IDLE_MS = 8000;
const DEFAULT_MAX_QUEUED_EVENTS = 16;

export interface PdStatus {
  readonly tamper: number;
  readonly power: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly readers: readonly number[];
}

export interface OsdpPdOptions {
  readonly address: number;
  /** cUID sent in osdp_CCRYPT (8 bytes). */
  readonly clientUid: Buffer;
  /** The reader's own SCBK; undefined until a KEYSET installs one. */
  readonly scbk?: Buffer;
  /** Accept SCBK-D (explicit, temporary install mode; ACS-5.1.1.1). Default false. */
  readonly installMode?: boolean;
  /** Answer commands without a secure channel (legacy wiring only). Default false. */
  readonly allowPlaintext?: boolean;
  readonly identity: PdIdentity;
  readonly capabilities: readonly PdCapability[];
  readonly status?: () => PdStatus;
  /** OUT, LED, BUZ, TEXT, COMSET. A throw becomes osdp_NAK (and is passed to onError). */
  readonly onCommand?: (command: OsdpCommand) => void;
  /** A KEYSET installed a new SCBK: the owner must persist it sealed, never log it. */
  readonly onKeyChange?: (scbk: Buffer) => void;
  readonly onTamper?: TamperListener;
  readonly onError?: (error: Error) => void;
  readonly random?: (bytes: number) => Buffer;
  readonly maxQueuedEvents?: number;
}

interface PendingHandshake {
  readonly keys: SessionKeys;
  readonly rndA: Buffer;
  readonly rndB: Buffer;
  readonly keyFlag: number;
}

interface LastExchange {
  readonly sequence: number;
  readonly command: Buffer;
  readonly reply: Buffer;
}

export class OsdpPeripheralDevice {
  readonly #options: OsdpPdOptions;
  readonly #reassembler = new OsdpFrameReassembler();
  readonly #events: OsdpReply[] = [];
  readonly #random: (bytes: number) => Buffer;
  #scbk: Buffer | undefined;
  #installMode: boolean;
  #pending: PendingHandshake | undefined;
  #session: OsdpSecureSession | undefined;
  #last: LastExchange | undefined;
  #lastCommandAt = 0;

  constructor(options: OsdpPdOptions) {
    if (!Number.isInteger(options.address) || options.address < 0 || options.address >= OSDP_BROADCAST) {
      throw new VigilError('VIGIL_VALIDATION', 'OSDP PD address must be 0..126');
    }
    if (options.clientUid.length !== 8) throw new VigilError('VIGIL_VALIDATION', 'OSDP cUID must be 8 bytes');
    if (options.scbk !== undefined && (options.scbk.length !== SCBK_BYTES || isDefaultInstallKey(options.scbk))) {
      throw new VigilError('VIGIL_OSDP_DEFAULT_KEY_REFUSED', 'An OSDP SCBK must be 16 bytes and not the install key');
    }
    this.#options = options;
    this.#scbk = options.scbk === undefined ? undefined : Buffer.from(options.scbk);
    this.#installMode = options.installMode ?? false;
    this.#random = options.random ?? randomBytes;
  }

  get secure(): boolean {
    return this.#session !== undefined;
  }

  get installMode(): boolean {
    return this.#installMode;
  }

  /** Queue a card read for the next osdp_POLL (bounded; false when full). */
  queueCardRead(read: { reader: number; format: number; bitCount: number; data: Buffer }): boolean {
    return this.#queue({ kind: 'RAW', ...read });
  }

  queueKeypad(reader: number, keys: Buffer): boolean {
    return this.#queue({ kind: 'KEYPAD', reader, keys });
  }

  /** Feed received bytes; returns the reply packets to transmit, in order. */
  receive(chunk: Uint8Array, nowMs: number): Buffer[] {
    if (this.#session !== undefined && nowMs - this.#lastCommandAt > SESSION_IDLE_MS) this.#closeSession();
    const replies: Buffer[] = [];
    for (const frame of this.#reassembler.push(chunk).frames) {
      const reply = this.#handleFrame(frame, nowMs);
      if (reply !== undefined) replies.push(reply);
    }
    return replies;
  }

  #queue(reply: OsdpReply): boolean {
    encodeReply(reply); // validate now: a bad event must fail at the caller, not at poll time
    if (this.#events.length >= (this.#options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS)) return false;
    this.#events.push(reply);
    return true;
  }

  #handleFrame(frame: Buffer, nowMs: number): Buffer | undefined {
    let packet: ParsedOsdpPacket;
    try {
      packet = parsePacket(frame);
    } catch (error) {
      if (isVigilError(error)) return undefined; // unframeable: no address to answer; the CP retries
      throw error;
    }
    if (packet.reply || (packet.address !== this.#options.address && packet.address !== OSDP_BROADCAST)) return undefined;

    const last = this.#last;
    if (last !== undefined && packet.sequence !== 0 && packet.sequence === last.sequence) {
      // §5.4: the same SQN again is a retransmission; answer with the cached reply and do not act
      // twice. Different bytes under a reused SQN are a replay attempt.
      if (frame.equals(last.command)) return last.reply;
      return this.#refuse(packet, OSDP_NAK.UNEXPECTED_SEQUENCE, 'replay');
    }
    if (packet.sequence === 0) {
      this.#closeSession(); // SQN 0: the CP restarted; any old session is void (Annex D.2)
    } else if (last === undefined || packet.sequence !== (last.sequence >= 3 ? 1 : last.sequence + 1)) {
      return this.#refuse(packet, OSDP_NAK.UNEXPECTED_SEQUENCE, 'replay');
    }
    this.#lastCommandAt = nowMs;
    const reply = this.#dispatch(packet);
    this.#last = { sequence: packet.sequence, command: frame, reply };
    return reply;
  }

  #dispatch(packet: ParsedOsdpPacket): Buffer {
    const scb = packet.scb;
    if (scb !== undefined && scbCarriesMac(scb.type)) {
      const session = this.#session;
      if (session === undefined) return this.#plain(packet, { kind: 'NAK', error: OSDP_NAK.SECURITY_CONDITIONS, detail: Buffer.alloc(0) });
      let opened: OpenedMessage;
      try {
        opened = session.openCommand(packet);
      } catch (error) {
        if (!isVigilError(error, 'VIGIL_OSDP_SECURE_CHANNEL')) throw error;
        const reason = error.details?.['reason'] === 'bad-mac' ? 'bad-mac' : 'decrypt-failed';
        return this.#refuse(packet, OSDP_NAK.SECURITY_CONDITIONS, reason);
      }
      return this.#secureReply(packet, this.#execute(opened.code, opened.data, opened.encrypted));
    }
    if (scb !== undefined && packet.code === OSDP_COMMAND.CHLNG && scb.type === SCS.CHLNG) return this.#challenge(packet);
    if (scb !== undefined && packet.code === OSDP_COMMAND.SCRYPT && scb.type === SCS.SCRYPT) return this.#serverCryptogram(packet);
    if (this.#session !== undefined) return this.#refuse(packet, OSDP_NAK.ENCRYPTION_REQUIRED, 'plaintext-refused');
    if (!(this.#options.allowPlaintext ?? false)) {
      return this.#plain(packet, { kind: 'NAK', error: OSDP_NAK.ENCRYPTION_REQUIRED, detail: Buffer.alloc(0) });
    }
    return this.#plain(packet, this.#execute(packet.code, packet.data, false));
  }

  /** osdp_CHLNG (Annex D.3): answer osdp_CCRYPT with RND.B and the client cryptogram. */
  #challenge(packet: ParsedOsdpPacket): Buffer {
    this.#closeSession();
    const keyFlag = packet.scb?.data[0];
    let key: Buffer | undefined;
    if (keyFlag === SCB_KEY_DEFAULT) {
      if (!this.#installMode) return this.#refuse(packet, OSDP_NAK.SECURITY_CONDITIONS, 'default-key-refused');
      key = defaultInstallKey();
    } else if (keyFlag === SCB_KEY_SCBK) {
      key = this.#scbk;
    }
    if (key === undefined || keyFlag === undefined || packet.data.length !== RND_BYTES) {
      return this.#plain(packet, { kind: 'NAK', error: OSDP_NAK.SECURITY_CONDITIONS, detail: Buffer.alloc(0) });
    }
    const rndA = Buffer.from(packet.data);
    const rndB = this.#random(RND_BYTES);
    const keys = deriveSessionKeys(key, rndA);
    this.#pending = { keys, rndA, rndB, keyFlag };
    const reply: OsdpReply = { kind: 'CCRYPT', clientUid: this.#options.clientUid, rndB, clientCryptogram: clientCryptogram(keys, rndA, rndB) };
    return this.#plain(packet, reply, { type: SCS.CCRYPT, data: Buffer.from([keyFlag]) });
  }

  /** osdp_SCRYPT (Annex D.3): verify the server cryptogram, answer osdp_RMAC_I. */
  #serverCryptogram(packet: ParsedOsdpPacket): Buffer {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined || packet.scb?.data[0] !== pending.keyFlag) {
      return this.#plain(packet, { kind: 'NAK', error: OSDP_NAK.SECURITY_CONDITIONS, detail: Buffer.alloc(0) });
    }
    const expected = serverCryptogram(pending.keys, pending.rndA, pending.rndB);
    if (!sameBytes(expected, packet.data)) return this.#refuse(packet, OSDP_NAK.SECURITY_CONDITIONS, 'cryptogram-mismatch');
    const rmacI = initialRmac(pending.keys, expected);
    this.#session = new OsdpSecureSession(pending.keys, rmacI);
    return this.#plain(packet, { kind: 'RMAC_I', rmacI }, { type: SCS.RMAC_I, data: Buffer.from([SCB_RMAC_ACCEPTED]) });
  }

  #execute(code: number, data: Buffer, encrypted: boolean): OsdpReply {
    let command: OsdpCommand;
    try {
      command = decodeCommand(code, data);
    } catch (error) {
      if (!isVigilError(error)) throw error;
      return { kind: 'NAK', error: nakCodeOf(error), detail: Buffer.alloc(0) };
    }
    const status = (): PdStatus => this.#options.status?.() ?? { tamper: 0, power: 0, inputs: [], outputs: [], readers: [] };
    switch (command.kind) {
      case 'POLL':
        return this.#events.shift() ?? { kind: 'ACK' };
      case 'ID':
        return { kind: 'PDID', ...this.#options.identity };
      case 'CAP':
        return { kind: 'PDCAP', capabilities: this.#options.capabilities };
      case 'LSTAT': {
        const s = status();
        return { kind: 'LSTATR', tamper: s.tamper, power: s.power };
      }
      case 'ISTAT':
        return { kind: 'ISTATR', inputs: status().inputs };
      case 'OSTAT':
        return { kind: 'OSTATR', outputs: status().outputs };
      case 'RSTAT':
        return { kind: 'RSTATR', readers: status().readers };
      case 'KEYSET':
        return this.#keyset(command.keyType, command.key, encrypted);
      case 'CHLNG':
      case 'SCRYPT':
        return { kind: 'NAK', error: OSDP_NAK.SECURITY_CONDITIONS, detail: Buffer.alloc(0) };
      case 'OUT':
      case 'LED':
      case 'BUZ':
      case 'TEXT':
      case 'COMSET':
        try {
          this.#options.onCommand?.(command);
        } catch (error) {
          this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
          return { kind: 'NAK', error: OSDP_NAK.UNABLE_TO_PROCESS, detail: Buffer.alloc(0) };
        }
        return command.kind === 'COMSET' ? { kind: 'COM', address: command.address, baudRate: command.baudRate } : { kind: 'ACK' };
    }
  }

  /** osdp_KEYSET (§6.19, Annex D.7): install this reader's own SCBK; leaves install mode. */
  #keyset(keyType: number, key: Buffer, encrypted: boolean): OsdpReply {
    const nak: OsdpReply = { kind: 'NAK', error: OSDP_NAK.UNABLE_TO_PROCESS, detail: Buffer.alloc(0) };
    if (this.#session === undefined || !encrypted) return { ...nak, error: OSDP_NAK.ENCRYPTION_REQUIRED };
    if (keyType !== KEYSET_TYPE_SCBK || key.length !== SCBK_BYTES || isDefaultInstallKey(key)) return nak;
    this.#scbk?.fill(0);
    this.#scbk = Buffer.from(key);
    this.#installMode = false;
    this.#options.onKeyChange?.(Buffer.from(key));
    return { kind: 'ACK' };
  }

  #refuse(packet: ParsedOsdpPacket, nak: number, reason: OsdpTamperReason): Buffer {
    // Only a PD that holds (or is negotiating) a session has something to protect; a refused
    // default key is reported whatever the state.
    if (this.#session !== undefined || this.#pending !== undefined || reason === 'default-key-refused' || reason === 'cryptogram-mismatch') {
      this.#options.onTamper?.({ side: 'pd', address: this.#options.address, reason });
    }
    this.#closeSession();
    this.#last = undefined;
    return this.#plain(packet, { kind: 'NAK', error: nak, detail: Buffer.alloc(0) });
  }

  #closeSession(): void {
    this.#session?.close();
    this.#session = undefined;
    this.#pending = undefined;
  }

  #secureReply(packet: ParsedOsdpPacket, reply: OsdpReply): Buffer {
    const session = this.#session;
    if (session === undefined) return this.#plain(packet, reply);
    const { code, data } = encodeReply(reply);
    return session.sealReply({ address: this.#options.address, sequence: packet.sequence, code, data });
  }

  #plain(packet: ParsedOsdpPacket, reply: OsdpReply, scb?: { type: number; data: Buffer }): Buffer {
    const { code, data } = encodeReply(reply);
    return serializePacket({ address: this.#options.address, reply: true, sequence: packet.sequence, useCrc: packet.useCrc, scb, code, data });
  }
}
