// What a door controller keeps on its own flash (ACS-5.4.1.2, ACS-5.4.2.3, ACS-5.1.1.5), every
// file sealed under a DEK of the device-bound keyring, so a copied data directory reveals and
// forges nothing: its enrolled identity (device key, certificate, the device CA and platform key
// it pins), the signed credential sets it decides from (a full set, then its deltas, re-verified
// at load), the time of its last sync (the offline bound survives a restart), and each reader's
// own Secure Channel key.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../../core/errors.ts';
import type { EdgeKeyring } from '../../crypto/edge-keyring.ts';
import type { SignedCredentialSet } from './credential-set.ts';

export interface ControllerIdentity {
  deviceId: string;
  /** ECDSA P-256 device key (PKCS#8 PEM). */
  keyPem: string;
  certPem: string;
  /** The device CA: the only trust anchor of the sync connection. */
  caCertPem: string;
  /** The key that signs credential sets. */
  platformKeyPem: string;
  /** Where the device sync listener is (from the enrolment answer). */
  syncHost: string;
  syncPort: number;
}

const PURPOSE = 'controller.state';
/** Deltas kept after a full set; past this the next restart waits for the platform (fail secure). */
export const MAX_KEPT_DELTAS = 64;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ControllerState {
  readonly dir: string;
  readonly #keyring: EdgeKeyring;
  #sets: SignedCredentialSet[] = [];

  constructor(dataDir: string, keyring: EdgeKeyring) {
    this.dir = path.join(dataDir, 'controller');
    this.#keyring = keyring;
  }

  get journalFile(): string {
    return path.join(this.dir, 'events.journal');
  }

  get enrolled(): boolean {
    return existsSync(path.join(this.dir, 'identity.sealed'));
  }

  identity(): ControllerIdentity {
    const raw = this.#read('identity.sealed');
    if (raw === undefined) throw new VigilError('VIGIL_EDGE_NOT_ENROLLED', 'this controller is not enrolled: run `vigil controller enrol --config FILE` with a token from `vigil devices token ID --kind controller`');
    const v: unknown = JSON.parse(raw.toString('utf8'));
    const fields = ['deviceId', 'keyPem', 'certPem', 'caCertPem', 'platformKeyPem', 'syncHost'] as const;
    if (!isRecord(v) || fields.some((f) => typeof v[f] !== 'string') || typeof v['syncPort'] !== 'number') throw new VigilError('VIGIL_EDGE_STATE_TAMPERED', 'the stored identity is incomplete');
    return v as unknown as ControllerIdentity;
  }

  saveIdentity(identity: ControllerIdentity): void {
    this.#write('identity.sealed', JSON.stringify(identity));
  }

  /** The kept sets and the last sync time (0 sets: wait for the platform). */
  loadSets(): { sets: SignedCredentialSet[]; lastSyncAt: number } {
    const raw = this.#read('credential-sets.sealed');
    const sync = this.#read('last-sync.sealed');
    if (raw === undefined || sync === undefined) return { sets: [], lastSyncAt: 0 };
    const v: unknown = JSON.parse(raw.toString('utf8'));
    const at: unknown = JSON.parse(sync.toString('utf8'));
    if (!Array.isArray(v) || !isRecord(at) || typeof at['lastSyncAt'] !== 'number') throw new VigilError('VIGIL_EDGE_STATE_TAMPERED', 'the stored credential sets are malformed');
    this.#sets = v.filter((s): s is SignedCredentialSet => isRecord(s) && typeof s['payload'] === 'string' && typeof s['signature'] === 'string');
    return { sets: this.#sets, lastSyncAt: at['lastSyncAt'] };
  }

  /** EdgeController.onSetChange: a full set replaces the kept ones, a delta is added. */
  recordSetChange(change: { applied?: SignedCredentialSet; full: boolean; syncedAt: number }): void {
    if (change.applied !== undefined) {
      if (change.full) this.#sets = [change.applied];
      else if (this.#sets.length > MAX_KEPT_DELTAS) this.#sets = [];
      else if (this.#sets.length > 0) this.#sets.push(change.applied);
      this.#write('credential-sets.sealed', JSON.stringify(this.#sets));
    }
    this.#write('last-sync.sealed', JSON.stringify({ lastSyncAt: change.syncedAt }));
  }

  readerKey(doorId: string): Buffer | undefined {
    return this.#read(`reader-${fileSafe(doorId)}.scbk.sealed`);
  }

  /** ACS-5.1.1.5: the reader's own SCBK, kept sealed; never logged. */
  saveReaderKey(doorId: string, scbk: Buffer): void {
    this.#write(`reader-${fileSafe(doorId)}.scbk.sealed`, scbk);
  }

  #read(name: string): Buffer | undefined {
    return this.#keyring.readSealed(path.join(this.dir, name), PURPOSE);
  }

  #write(name: string, data: string | Buffer): void {
    this.#keyring.writeSealed(path.join(this.dir, name), PURPOSE, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
}

/** Door ids become file names: anything but [A-Za-z0-9_-] is hex-escaped. */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, (c) => `.${c.charCodeAt(0).toString(16)}`);
}
