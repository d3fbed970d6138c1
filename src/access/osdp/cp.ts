// OSDP Control Panel (bus master) state machine, sans I/O: the owner feeds received bytes and
// calls tick() with the time; the CP calls `send` with packets to transmit. One command is in
// flight at a time on the bus (§5.7); each PD gets a Secure Channel (Annex D) before anything
// else, is polled, retried after a reply timeout, and reported offline after the retries.
//
// Security (ACS-5.1.1.5, ACS-5.1.1.1): a PD is configured with its own SCBK, or explicitly in
// install mode, where SCBK-D is used once to KEYSET a fresh random 128-bit SCBK and the channel is
// re-established under it. Bad MACs, replayed replies, cryptogram mismatches and a PD leaving
// the secure channel are reported through onTamper and the channel is rebuilt from SQN 0.
import { randomBytes } from 'node:crypto';
import { VigilError, isVigilError } from '../../core/errors.ts';
import { KEYSET_TYPE_SCBK, encodeCommand, type OsdpCommand } from './commands.ts';
import { OSDP_NAK, SCB_KEY_DEFAULT, SCB_KEY_SCBK, SCB_RMAC_ACCEPTED, SCS, nextSequence, scbCarriesMac } from './constants.ts';
import type { OsdpCpEvent, OsdpTamperReason, TamperListener } from './events.ts';
import { parsePacket, serializePacket, type ParsedOsdpPacket } from './packet.ts';
import { OsdpFrameReassembler } from './reassembler.ts';
import { decodeReply, type OsdpReply } from './replies.ts';
import {
  RND_BYTES,
  SCBK_BYTES,
  clientCryptogram,
  defaultInstallKey,
  deriveSessionKeys,
  initialRmac,
  sameBytes,
  serverCryptogram,
  wipeKeys,
} from './secure-crypto.ts';
import { createPeer, resetPeerChannel, type OsdpCpPeerConfig, type Peer } from './cp-peer.ts';
import { OsdpSecureSession, type OpenedMessage } from './secure-session.ts';

export type { OsdpCpPeerConfig } from './cp-peer.ts';

export interface OsdpCpOptions {
  readonly peers: readonly OsdpCpPeerConfig[];
  readonly send: (bytes: Buffer) => void;
  readonly onEvent: (event: OsdpCpEvent) => void;
  readonly onTamper: TamperListener;
  /** Receives a newly installed SCBK to store sealed (required when any peer is in install mode). */
  readonly onKeyInstalled?: (address: number, scbk: Buffer) => void;
  readonly pollIntervalMs?: number;
  /** §5.7: 200 ms reply timeout by default. */
  readonly replyTimeoutMs?: number;
  readonly maxRetries?: number;
  readonly offlineBackoffMs?: number;
  readonly maxQueuedCommands?: number;
  readonly random?: (bytes: number) => Buffer;
}

interface InFlight {
  readonly peer: Peer;
  readonly bytes: Buffer;
  readonly sequence: number;
  readonly command: OsdpCommand;
  readonly queued: boolean;
  sentAt: number;
  retries: number;
}

const MANAGED_COMMANDS: ReadonlySet<OsdpCommand['kind']> = new Set(['CHLNG', 'SCRYPT', 'KEYSET']);

export class OsdpControlPanel {
  readonly #options: OsdpCpOptions;
  readonly #peers: Peer[];
  readonly #reassembler = new OsdpFrameReassembler();
  readonly #random: (bytes: number) => Buffer;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #backoffMs: number;
  #inFlight: InFlight | undefined;
  #next = 0;

  constructor(options: OsdpCpOptions) {
    const seen = new Set<number>();
    this.#peers = options.peers.map((config) => {
      if (seen.has(config.address)) throw new VigilError('VIGIL_VALIDATION', 'OSDP PD addresses must be unique');
      seen.add(config.address);
      if ((config.installMode ?? false) && options.onKeyInstalled === undefined) {
        throw new VigilError('VIGIL_VALIDATION', 'Install mode needs onKeyInstalled');
      }
      return createPeer(config);
    });
    this.#options = options;
    this.#random = options.random ?? randomBytes;
    this.#pollMs = options.pollIntervalMs ?? 100;
    this.#timeoutMs = options.replyTimeoutMs ?? 200;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#backoffMs = options.offlineBackoffMs ?? 1000;
  }

  isSecure(address: number): boolean {
    return this.#peer(address).phase === 'secure';
  }

  /** Queue an application command (OUT, LED, BUZ, TEXT, status...) for one PD; bounded. */
  enqueue(address: number, command: OsdpCommand): void {
    if (MANAGED_COMMANDS.has(command.kind)) throw new VigilError('VIGIL_VALIDATION', 'Secure Channel commands are managed by the CP');
    encodeCommand(command); // fail at the caller on a bad field, not at send time
    const peer = this.#peer(address);
    if (peer.queue.length >= (this.#options.maxQueuedCommands ?? 16)) throw new VigilError('VIGIL_OSDP_QUEUE_FULL', 'OSDP command queue full');
    peer.queue.push(command);
  }

  /** Feed bytes from the transport. */
  receive(chunk: Uint8Array, nowMs: number): void {
    for (const frame of this.#reassembler.push(chunk).frames) this.#handleFrame(frame, nowMs);
  }

  /** Drive retries, timeouts and polling; call every few milliseconds. */
  tick(nowMs: number): void {
    const flight = this.#inFlight;
    if (flight !== undefined) {
      if (nowMs - flight.sentAt < this.#timeoutMs) return;
      if (flight.retries < this.#maxRetries) {
        flight.retries += 1;
        flight.sentAt = nowMs;
        this.#options.send(flight.bytes); // same bytes, same SQN: the PD answers from its cache
        return;
      }
      this.#inFlight = undefined;
      this.#lost(flight.peer, nowMs);
    }
    for (let i = 0; i < this.#peers.length; i++) {
      const index = (this.#next + i) % this.#peers.length;
      const peer = this.#peers[index];
      if (peer !== undefined && nowMs >= peer.readyAt) {
        this.#next = index + 1;
        this.#sendNext(peer, nowMs);
        return;
      }
    }
  }

  /** Wipe every key and session (ACS-5.3.1.4). */
  close(): void {
    for (const peer of this.#peers) {
      this.#dropSession(peer, 0);
      peer.scbk?.fill(0);
      peer.newKey?.fill(0);
    }
    this.#inFlight = undefined;
  }

  #peer(address: number): Peer {
    const peer = this.#peers.find((p) => p.address === address);
    if (peer === undefined) throw new VigilError('VIGIL_NOT_FOUND', 'Unknown OSDP reader');
    return peer;
  }

  #sendNext(peer: Peer, nowMs: number): void {
    const sequence = peer.reset ? 0 : nextSequence(peer.lastSequence);
    peer.reset = false;
    peer.lastSequence = sequence;
    let command: OsdpCommand;
    let queued = false;
    let bytes: Buffer;
    if (peer.phase === 'idle') {
      const key = peer.installMode ? defaultInstallKey() : peer.scbk;
      if (key === undefined) throw new VigilError('VIGIL_INTERNAL', 'OSDP reader has no key');
      const rndA = this.#random(RND_BYTES);
      const keyFlag = peer.installMode ? SCB_KEY_DEFAULT : SCB_KEY_SCBK;
      peer.handshake = { keys: deriveSessionKeys(key, rndA), rndA, keyFlag, serverCryptogram: undefined };
      command = { kind: 'CHLNG', rndA };
      bytes = this.#plain(peer, sequence, command, SCS.CHLNG, keyFlag);
    } else if (peer.phase === 'verified' && peer.handshake?.serverCryptogram !== undefined) {
      command = { kind: 'SCRYPT', serverCryptogram: peer.handshake.serverCryptogram };
      bytes = this.#plain(peer, sequence, command, SCS.SCRYPT, peer.handshake.keyFlag);
    } else if (peer.phase === 'secure' && peer.session !== undefined) {
      if (peer.installMode && peer.newKey === undefined) {
        peer.newKey = this.#random(SCBK_BYTES);
        command = { kind: 'KEYSET', keyType: KEYSET_TYPE_SCBK, key: peer.newKey };
      } else {
        const next = peer.queue.shift();
        queued = next !== undefined;
        command = next ?? { kind: 'POLL' };
      }
      const { code, data } = encodeCommand(command);
      bytes = peer.session.sealCommand({ address: peer.address, sequence, code, data });
    } else {
      this.#dropSession(peer, nowMs);
      return;
    }
    this.#inFlight = { peer, bytes, sequence, command, queued, sentAt: nowMs, retries: 0 };
    this.#options.send(bytes);
  }

  #plain(peer: Peer, sequence: number, command: OsdpCommand, scbType: number, keyFlag: number): Buffer {
    const { code, data } = encodeCommand(command);
    return serializePacket({ address: peer.address, reply: false, sequence, useCrc: true, scb: { type: scbType, data: Buffer.from([keyFlag]) }, code, data });
  }

  #handleFrame(frame: Buffer, nowMs: number): void {
    let packet: ParsedOsdpPacket;
    try {
      packet = parsePacket(frame);
    } catch (error) {
      if (isVigilError(error)) return; // not a packet we can use; the retry timer covers it
      throw error;
    }
    const flight = this.#inFlight;
    if (flight === undefined || !packet.reply || packet.address !== flight.peer.address) return;
    const peer = flight.peer;
    if (packet.sequence !== flight.sequence) {
      // A late duplicate of the reply we already took is harmless; any other reply out of sequence
      // inside a session is a replay attempt.
      if (peer.session !== undefined && !(peer.lastReply?.equals(frame) ?? false)) this.#tamper(peer, 'replay');
      return;
    }
    this.#inFlight = undefined;
    peer.readyAt = nowMs + this.#pollMs;
    if (flight.command.kind === 'CHLNG') this.#onClientCryptogram(peer, packet, nowMs);
    else if (flight.command.kind === 'SCRYPT') this.#onInitialRmac(peer, packet, nowMs);
    else this.#onSecureReply(peer, flight, packet, nowMs);
    peer.lastReply = frame;
  }

  #onClientCryptogram(peer: Peer, packet: ParsedOsdpPacket, nowMs: number): void {
    const handshake = peer.handshake;
    const reply = this.#decode(packet.code, packet.data);
    if (handshake === undefined || reply?.kind !== 'CCRYPT' || packet.scb?.type !== SCS.CCRYPT) {
      if (reply?.kind === 'NAK' && reply.error === OSDP_NAK.SECURITY_CONDITIONS && peer.installMode) this.#tamper(peer, 'default-key-refused');
      this.#failHandshake(peer, nowMs);
      return;
    }
    const expected = clientCryptogram(handshake.keys, handshake.rndA, reply.rndB);
    if (!sameBytes(expected, reply.clientCryptogram)) {
      this.#tamper(peer, 'cryptogram-mismatch');
      this.#failHandshake(peer, nowMs);
      return;
    }
    handshake.serverCryptogram = serverCryptogram(handshake.keys, handshake.rndA, reply.rndB);
    peer.phase = 'verified';
    peer.readyAt = nowMs;
  }

  #onInitialRmac(peer: Peer, packet: ParsedOsdpPacket, nowMs: number): void {
    const handshake = peer.handshake;
    const reply = this.#decode(packet.code, packet.data);
    const accepted = packet.scb?.type === SCS.RMAC_I && packet.scb.data[0] === SCB_RMAC_ACCEPTED;
    if (handshake?.serverCryptogram === undefined || reply?.kind !== 'RMAC_I' || !accepted) {
      this.#tamper(peer, 'cryptogram-mismatch');
      this.#failHandshake(peer, nowMs);
      return;
    }
    const rmacI = initialRmac(handshake.keys, handshake.serverCryptogram);
    if (!sameBytes(rmacI, reply.rmacI)) {
      this.#tamper(peer, 'cryptogram-mismatch');
      this.#failHandshake(peer, nowMs);
      return;
    }
    peer.session = new OsdpSecureSession(handshake.keys, rmacI);
    wipeKeys(handshake.keys);
    peer.handshake = undefined;
    peer.phase = 'secure';
    peer.status = 'online';
    peer.readyAt = nowMs;
    this.#options.onEvent({ kind: 'online', address: peer.address });
  }

  #onSecureReply(peer: Peer, flight: InFlight, packet: ParsedOsdpPacket, nowMs: number): void {
    const session = peer.session;
    if (session === undefined) return;
    if (packet.scb === undefined || !scbCarriesMac(packet.scb.type)) {
      this.#tamper(peer, 'secure-channel-lost'); // the PD answered in plaintext: it left the channel
      this.#dropSession(peer, nowMs);
      return;
    }
    let opened: OpenedMessage;
    try {
      opened = session.openReply(packet);
    } catch (error) {
      if (!isVigilError(error, 'VIGIL_OSDP_SECURE_CHANNEL')) throw error;
      this.#tamper(peer, error.details?.['reason'] === 'bad-mac' ? 'bad-mac' : 'decrypt-failed');
      this.#dropSession(peer, nowMs);
      return;
    }
    const reply = this.#decode(opened.code, opened.data);
    if (reply === undefined) return;
    const address = peer.address;
    const command = flight.command.kind;
    switch (reply.kind) {
      case 'NAK':
        if (reply.error === OSDP_NAK.SECURITY_CONDITIONS || reply.error === OSDP_NAK.ENCRYPTION_REQUIRED) {
          this.#tamper(peer, 'secure-channel-lost');
          this.#dropSession(peer, nowMs);
        } else if (command === 'KEYSET') {
          peer.newKey?.fill(0);
          peer.newKey = undefined;
        } else if (flight.queued) {
          this.#options.onEvent({ kind: 'nak', address, command, error: reply.error });
        }
        return;
      case 'RAW':
        this.#options.onEvent({ kind: 'card', address, reader: reply.reader, format: reply.format, bitCount: reply.bitCount, data: reply.data });
        return;
      case 'KEYPAD':
        this.#options.onEvent({ kind: 'keypad', address, reader: reply.reader, keys: reply.keys });
        return;
      case 'ACK':
        if (command === 'KEYSET') {
          this.#keyInstalled(peer, nowMs);
          return;
        }
        break;
      default:
        break;
    }
    if (flight.queued) this.#options.onEvent({ kind: 'reply', address, command, reply });
  }

  #keyInstalled(peer: Peer, nowMs: number): void {
    const key = peer.newKey;
    if (key === undefined) return;
    peer.scbk?.fill(0);
    peer.scbk = key;
    peer.newKey = undefined;
    peer.installMode = false;
    this.#options.onKeyInstalled?.(peer.address, Buffer.from(key));
    this.#options.onEvent({ kind: 'key-installed', address: peer.address });
    // Prove the new key at once: rebuild the channel under it (no SCBK-D session stays up).
    this.#dropSession(peer, nowMs);
    peer.readyAt = nowMs;
  }

  #decode(code: number, data: Buffer): OsdpReply | undefined {
    try {
      return decodeReply(code, data);
    } catch (error) {
      if (isVigilError(error)) return undefined;
      throw error;
    }
  }

  #tamper(peer: Peer, reason: OsdpTamperReason): void {
    this.#options.onTamper({ side: 'cp', address: peer.address, reason });
  }

  #failHandshake(peer: Peer, nowMs: number): void {
    this.#dropSession(peer, nowMs);
    peer.readyAt = nowMs + this.#backoffMs;
  }

  #dropSession(peer: Peer, nowMs: number): void {
    resetPeerChannel(peer);
    peer.readyAt = nowMs + this.#pollMs;
  }

  #lost(peer: Peer, nowMs: number): void {
    this.#dropSession(peer, nowMs);
    peer.readyAt = nowMs + this.#backoffMs;
    if (peer.status !== 'offline') {
      peer.status = 'offline';
      this.#options.onEvent({ kind: 'offline', address: peer.address });
    }
  }
}
