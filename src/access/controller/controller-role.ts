// `vigil controller`: the edge door controller as its own long-running process (design §6). It
// opens its device-bound keyring and sealed state, reopens its journaled event log where it left
// off, restores the last verified credential set (so it decides offline after a restart too),
// drives each configured door's OSDP reader over the Secure Channel (TCP or a serial line),
// sets every lock locked as soon as its reader answers (ACS-5.4.1.2), and syncs with the platform
// over mTLS: attestation, set pulls, event pushes in order (ACS-5.4.2.3). Console lines are the
// operator's view; no card number, key or token is ever printed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlarmInput, AlarmSink } from '../../alarms/types.ts';
import { systemClock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { isVigilError, VigilError } from '../../core/errors.ts';
import { EdgeKeyring } from '../../crypto/edge-keyring.ts';
import { EdgeEventJournal } from '../edge-event-journal.ts';
import { EdgeEventLog } from '../edge-event-log.ts';
import { OsdpCpLink } from '../osdp/link.ts';
import { connectOsdpTcp, openOsdpPty, type OsdpTransport } from '../osdp/transport.ts';
import { ControllerState } from './controller-state.ts';
import { EdgeController, type DoorPolicy } from './edge-controller.ts';
import { ReaderDoors } from './reader-door.ts';
import { ControllerSyncClient } from './sync-client.ts';
import { measureControllerSoftware } from './sync-measurement.ts';

type DoorConfig = Config['controller']['doors'][number];

export interface RunningController {
  deviceId: string;
  controller: EdgeController;
  stop(): Promise<void>;
}

/** Alarms at the edge go to the console (and, as events, to the platform). */
function consoleAlarms(print: (line: string) => void): AlarmSink {
  return {
    raise: (a: AlarmInput) => print(`alarm ${a.severity} ${a.type} ${a.source}: ${a.message}`),
    clear: (key: string, reason: string) => print(`alarm cleared ${key}: ${reason}`),
  };
}

/** One door's reader line: connects, runs the CP, reconnects with a bounded backoff. */
class ReaderLine {
  readonly #door: DoorConfig;
  readonly #open: () => Promise<OsdpTransport>;
  readonly #setup: (transport: OsdpTransport) => OsdpCpLink;
  readonly #print: (line: string) => void;
  readonly #abort = new AbortController();
  #link: OsdpCpLink | undefined;
  #loop: Promise<void> | undefined;

  constructor(door: DoorConfig, setup: (transport: OsdpTransport) => OsdpCpLink, print: (line: string) => void) {
    this.#door = door;
    this.#setup = setup;
    this.#print = print;
    const reader = door.reader;
    this.#open = reader.startsWith('tcp:')
      ? async () => {
          const at = reader.slice(4);
          const split = at.lastIndexOf(':');
          return connectOsdpTcp({ host: at.slice(0, split).replace(/^\[|\]$/g, ''), port: Number(at.slice(split + 1)), connectTimeoutMs: 3000 });
        }
      : async () => openOsdpPty(reader);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    let backoff = 200;
    while (!this.#abort.signal.aborted) {
      try {
        const transport = await this.#open();
        this.#link = this.#setup(transport);
        // After the link: it sets its own close listener, which link.close() below stands in for.
        const closed = new Promise<void>((resolve) => transport.setCloseListener(() => resolve()));
        this.#print(`door ${this.#door.id}: reader line ${transport.description} open`);
        backoff = 200;
        await Promise.race([closed, new Promise<void>((resolve) => this.#abort.signal.addEventListener('abort', () => resolve(), { once: true }))]);
        await this.#link.close();
        this.#link = undefined;
        if (!this.#abort.signal.aborted) this.#print(`door ${this.#door.id}: reader line closed`);
      } catch (err) {
        if (!isVigilError(err)) throw err;
      }
      await sleep(backoff, undefined, { signal: this.#abort.signal }).catch(() => undefined);
      backoff = Math.min(5000, backoff * 2);
    }
  }

  enqueue(...args: Parameters<OsdpCpLink['cp']['enqueue']>): void {
    this.#link?.cp.enqueue(...args);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }
}

export async function startController(config: Config, o: { installReaders: boolean; print: (line: string) => void }): Promise<RunningController> {
  const print = o.print;
  const keyring = EdgeKeyring.open(config.keyring.kekFile, config.dataDir);
  const lines: ReaderLine[] = [];
  const readerDoorsList: ReaderDoors[] = [];
  let journal: EdgeEventJournal | undefined;
  let sync: ControllerSyncClient | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(statusTimer);
    await sync?.stop();
    for (const doors of readerDoorsList) doors.close();
    for (const line of lines) await line.stop();
    journal?.close();
    keyring.close();
  };
  try {
    const c = config.controller;
    const state = new ControllerState(config.dataDir, keyring);
    const identity = state.identity();
    if (c.doors.length === 0) throw new VigilError('VIGIL_CONFIG_INVALID', 'controller.doors is empty: a controller drives at least one door');
    const opened = EdgeEventJournal.open(state.journalFile, c.eventCapacity);
    journal = opened.journal;
    const storageKey = keyring.key('controller.events');
    const log = new EdgeEventLog(storageKey, c.eventCapacity, { sink: journal, restored: opened.restored });
    const doors: Record<string, DoorPolicy> = Object.fromEntries(c.doors.map((d) => [d.id, { maxOfflineMs: d.maxOfflineMinutes * 60_000 }]));
    const controller = new EdgeController({
      controllerId: identity.deviceId,
      platformKeyPem: identity.platformKeyPem,
      storageKey,
      clock: systemClock,
      doors,
      log,
      onSetChange: (change) => state.recordSetChange(change),
      onPinLockout: (l) => print(`alarm warning access.pin_lockout door:${l.doorId}: holder ${l.holderId ?? 'unknown'}: ${l.reason}`),
    });
    const kept = state.loadSets();
    if (kept.sets.length > 0) controller.restore(kept.sets, kept.lastSyncAt);
    print(`controller ${identity.deviceId}: event log reopened at seq ${log.lastSeq} (${log.stored.length} not yet forwarded); credential set version ${controller.version} (${controller.credentials} credentials)`);

    const alarms = consoleAlarms(print);
    for (const door of c.doors) {
      const scbk = state.readerKey(door.id);
      if (scbk === undefined && !o.installReaders) {
        // ACS-5.1.1.5: no default key outside an explicit installation.
        print(`door ${door.id}: VIGIL_OSDP_DEFAULT_KEY_REFUSED: its reader has no Secure Channel key yet; install it with vigil controller --install-readers (the door stays locked)`);
        continue;
      }
      let line: ReaderLine | undefined;
      const readerDoors = new ReaderDoors({
        doors: [{ address: door.readerAddress, doorId: door.id, output: door.lockOutput, releaseTenths: door.unlockSeconds * 10, pinTimeoutMs: door.pinTimeoutSeconds * 1000 }],
        controller,
        send: (address, command) => line?.enqueue(address, command),
        alarms,
        // Holder IDs and reasons only: never a card number or a PIN.
        onDecision: (d) => {
          const outcome = d.decision.granted ? `granted (${d.decision.holderId}${d.decision.duress === true ? ', duress' : ''})` : `denied (${d.decision.reason})`;
          print(`door ${door.id}: ${outcome}${d.pinEntered ? ' with PIN' : ''} in ${d.decideMs.toFixed(2)} ms, event seq ${log.lastSeq}`);
        },
      });
      readerDoorsList.push(readerDoors);
      line = new ReaderLine(door, (transport) => {
        const installMode = state.readerKey(door.id) === undefined;
        return new OsdpCpLink(transport, {
          peers: [installMode ? { address: door.readerAddress, installMode: true } : { address: door.readerAddress, scbk: state.readerKey(door.id) }],
          onEvent: (event) => {
            readerDoors.onEvent(event);
            if (event.kind === 'online') print(`door ${door.id}: reader online over the secure channel; lock output ${door.lockOutput} set locked`);
          },
          onTamper: (event) => readerDoors.onTamper(event),
          onKeyInstalled: (_address, key) => {
            state.saveReaderKey(door.id, key);
            print(`door ${door.id}: reader installed with its own Secure Channel key (kept sealed)`);
          },
          pollIntervalMs: 50,
        });
      }, print);
      lines.push(line);
      line.start();
    }

    sync = new ControllerSyncClient({
      host: identity.syncHost,
      port: identity.syncPort,
      servername: identity.syncHost,
      controllerId: identity.deviceId,
      certPem: identity.certPem,
      keyPem: identity.keyPem,
      caPem: identity.caCertPem,
      controller,
      measurement: await measureControllerSoftware(),
      intervalMs: c.syncIntervalSeconds * 1000,
      backoffInitialMs: 250,
      backoffMaxMs: c.reconnectMaxSeconds * 1000,
    });
    sync.start();
    // Transitions only: one line when the link comes or goes, one per forwarded batch.
    let wasOnline = false;
    let lastError: string | null = null;
    let forwarded = log.lastSeq - log.stored.length;
    let version = controller.version;
    const client = sync;
    statusTimer = setInterval(() => {
      const s = client.status;
      if (s.online !== wasOnline) print(s.online ? `sync: online with the platform (attested)` : `sync: platform unreachable (${s.lastError ?? 'connection closed'}); deciding offline`);
      else if (!s.online && s.lastError !== lastError && s.lastError !== null) print(`sync: platform unreachable (${s.lastError})`);
      wasOnline = s.online;
      lastError = s.lastError;
      if (controller.version !== version) print(`sync: credential set version ${controller.version} (${controller.credentials} credentials)`);
      version = controller.version;
      const acked = log.lastSeq - log.stored.length;
      if (acked > forwarded) print(`sync: events forwarded up to seq ${acked}`);
      forwarded = acked;
    }, 100);
    print(`controller ${identity.deviceId} running: ${c.doors.length} door(s), platform sync ${identity.syncHost}:${identity.syncPort}`);
    return { deviceId: identity.deviceId, controller, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
