// The CP's record of one PD on the bus: configuration checked at creation (ACS-5.1.1.1: a reader
// has its own SCBK, or is explicitly in install mode; SCBK-D is never a configured key), the
// Secure Channel phase, the sequence counter (§5.4) and its bounded command queue.
import { VigilError } from '../../core/errors.ts';
import type { OsdpCommand } from './commands.ts';
import { OSDP_BROADCAST } from './constants.ts';
import { SCBK_BYTES, isDefaultInstallKey, wipeKeys, type SessionKeys } from './secure-crypto.ts';
import type { OsdpSecureSession } from './secure-session.ts';

export interface OsdpCpPeerConfig {
  readonly address: number;
  /** This reader's SCBK (16 bytes, never SCBK-D). */
  readonly scbk?: Buffer;
  /** Use SCBK-D once and KEYSET a fresh random SCBK (explicit install command only). */
  readonly installMode?: boolean;
}

/** idle: needs osdp_CHLNG; verified: client cryptogram checked, needs osdp_SCRYPT; secure: up. */
export type PeerPhase = 'idle' | 'verified' | 'secure';

export interface PeerHandshake {
  readonly keys: SessionKeys;
  readonly rndA: Buffer;
  readonly keyFlag: number;
  serverCryptogram: Buffer | undefined;
}

export interface Peer {
  readonly address: number;
  scbk: Buffer | undefined;
  installMode: boolean;
  phase: PeerPhase;
  status: 'unknown' | 'online' | 'offline';
  lastSequence: number;
  /** The next command starts a new conversation with SQN 0. */
  reset: boolean;
  handshake: PeerHandshake | undefined;
  session: OsdpSecureSession | undefined;
  readonly queue: OsdpCommand[];
  /** SCBK sent in a KEYSET not yet acknowledged. */
  newKey: Buffer | undefined;
  lastReply: Buffer | undefined;
  readyAt: number;
}

export function createPeer(config: OsdpCpPeerConfig): Peer {
  if (!Number.isInteger(config.address) || config.address < 0 || config.address >= OSDP_BROADCAST) {
    throw new VigilError('VIGIL_VALIDATION', 'OSDP PD address must be 0..126');
  }
  const installMode = config.installMode ?? false;
  if (!installMode && (config.scbk === undefined || config.scbk.length !== SCBK_BYTES || isDefaultInstallKey(config.scbk))) {
    throw new VigilError('VIGIL_OSDP_DEFAULT_KEY_REFUSED', 'An OSDP reader needs its own SCBK unless in install mode');
  }
  return {
    address: config.address,
    scbk: config.scbk === undefined ? undefined : Buffer.from(config.scbk),
    installMode,
    phase: 'idle',
    status: 'unknown',
    lastSequence: 0,
    reset: true,
    handshake: undefined,
    session: undefined,
    queue: [],
    newKey: undefined,
    lastReply: undefined,
    readyAt: 0,
  };
}

/** Tear the channel down and wipe its keys (ACS-5.3.1.4); the next command restarts at SQN 0. */
export function resetPeerChannel(peer: Peer): void {
  peer.session?.close();
  peer.session = undefined;
  if (peer.handshake !== undefined) wipeKeys(peer.handshake.keys);
  peer.handshake = undefined;
  peer.newKey?.fill(0);
  peer.newKey = undefined;
  peer.phase = 'idle';
  peer.reset = true;
  peer.lastReply = undefined;
}
