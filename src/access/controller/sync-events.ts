// Ingest of the events a controller forwards (ACS-5.4.2.3): in order, none lost, chain verified.
// The platform recomputes each event's hash from the previous one exactly as the edge log chains
// them (src/access/edge-event-log.ts) and accepts a batch only if it continues the chain it holds
// for that controller; a batch that overlaps what is stored (an ack lost on the way) is accepted
// for its new part. A log restarting at seq 1 from the genesis hash (a controller reboot) opens
// a new epoch and is alarmed, as is a gap in seq (events dropped at the edge).
import { createHash } from 'node:crypto';
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import type { DeviceEventRepository, EventHead } from '../../device/device-event-repository.ts';
import type { DeviceEventsTable } from '../../store/schema.ts';
import { GENESIS, type EdgeEvent } from '../edge-event-log.ts';

export const EVENTS_TAMPERED_ALARM = 'device.events_tampered';
export const EVENTS_LOST_ALARM = 'device.events_lost';

/** The edge log's chain hash (must stay identical to edge-event-log.ts; a test pins it). */
export function edgeEventHash(prevHash: string, event: EdgeEvent): string {
  return createHash('sha256').update(prevHash).update(JSON.stringify([event.seq, event.at, event.type, event.doorId, event.subject, event.reason])).digest('hex');
}

export interface CheckedBatch {
  head: EventHead;
  fresh: Array<{ event: EdgeEvent; prevHash: string; hash: string }>;
  restarted: boolean;
  lost: number;
}

/**
 * Pure: what of `events` (chained from `prevHash`) continues `stored`; throws when it cannot.
 * `storedLast` is the stored hash of the batch's last seq when that seq is already stored in the
 * current epoch: it tells a resend from seq 1 (an ack lost) from a log that restarted at seq 1.
 */
export function checkBatch(stored: EventHead | undefined, prevHash: string, events: readonly EdgeEvent[], storedLast?: string): CheckedBatch {
  const rejected = (why: string): VigilError => new VigilError('VIGIL_DEVICE_EVENTS_REJECTED', why);
  let base: EventHead = stored ?? { epoch: 1, lastSeq: 0, lastHash: GENESIS };
  if (events.length === 0) return { head: base, fresh: [], restarted: false, lost: 0 };
  const chained: CheckedBatch['fresh'] = [];
  let prev = prevHash;
  for (const [i, event] of events.entries()) {
    if (i > 0 && event.seq !== (events[i - 1]?.seq ?? 0) + 1) throw rejected(`event ${event.seq} does not follow ${events[i - 1]?.seq ?? 0}`);
    const hash = edgeEventHash(prev, event);
    chained.push({ event, prevHash: prev, hash });
    prev = hash;
  }
  const first = chained[0];
  const last = chained[chained.length - 1];
  let restarted = false;
  if (first !== undefined && last !== undefined && first.event.seq === 1 && prevHash === GENESIS && base.lastSeq > 0) {
    const knownHash = last.event.seq === base.lastSeq ? base.lastHash : last.event.seq < base.lastSeq ? storedLast : undefined;
    const atLastSeq = chained.find((c) => c.event.seq === base.lastSeq);
    const resend = atLastSeq !== undefined ? atLastSeq.hash === base.lastHash : knownHash === last.hash;
    if (!resend) {
      base = { epoch: base.epoch + 1, lastSeq: 0, lastHash: GENESIS };
      restarted = true;
    }
  }
  const fresh = chained.filter((c) => c.event.seq > base.lastSeq);
  const next = fresh[0];
  if (next === undefined) {
    const overlap = chained.find((c) => c.event.seq === base.lastSeq);
    if (overlap !== undefined && overlap.hash !== base.lastHash) throw rejected(`event ${base.lastSeq} differs from the one stored`);
    return { head: base, fresh: [], restarted, lost: 0 };
  }
  const lost = next.event.seq - base.lastSeq - 1;
  if (lost === 0 && next.prevHash !== base.lastHash) throw rejected(`event ${next.event.seq} does not continue the stored chain`);
  const newest = fresh[fresh.length - 1] ?? next;
  return { head: { epoch: base.epoch, lastSeq: newest.event.seq, lastHash: newest.hash }, fresh, restarted, lost };
}

export class ControllerEventIngest {
  readonly #repository: DeviceEventRepository;
  readonly #audit: AuditSink;
  readonly #alarms: AlarmSink;
  readonly #clock: Clock;
  readonly #onStored: ((deviceId: string, events: readonly EdgeEvent[]) => Promise<void>) | undefined;

  /** `onStored`: the platform's access event log gets each stored edge decision (ACS-5.6.1.1). */
  constructor(o: { repository: DeviceEventRepository; audit: AuditSink; alarms: AlarmSink; clock: Clock; onStored?: (deviceId: string, events: readonly EdgeEvent[]) => Promise<void> }) {
    this.#onStored = o.onStored;
    this.#repository = o.repository;
    this.#audit = o.audit;
    this.#alarms = o.alarms;
    this.#clock = o.clock;
  }

  /** Stores what continues the chain; returns the seq the controller may forget up to. */
  async ingest(deviceId: string, prevHash: string, events: readonly EdgeEvent[], source: string): Promise<number> {
    const stored = await this.#repository.head(deviceId);
    const target = `device:${deviceId}`;
    const lastSeq = events[events.length - 1]?.seq ?? 0;
    const storedLast = stored !== undefined && lastSeq < stored.lastSeq ? await this.#repository.hashAt(deviceId, stored.epoch, lastSeq) : undefined;
    let batch: CheckedBatch;
    try {
      batch = checkBatch(stored, prevHash, events, storedLast);
    } catch (err) {
      if (err instanceof VigilError) {
        this.#audit.record({ category: 'device', action: 'device.events.receive', actor: target, source, target, outcome: 'failure', details: { reason: err.message } });
        this.#alarms.raise({ type: EVENTS_TAMPERED_ALARM, severity: 'critical', source: target, message: `events from ${deviceId} do not continue its chain: ${err.message}` });
      }
      throw err;
    }
    if (batch.fresh.length === 0) return batch.head.lastSeq;
    const now = this.#clock.now();
    const rows: DeviceEventsTable[] = batch.fresh.map((f) => ({ device_id: deviceId, epoch: batch.head.epoch, seq: f.event.seq, ts: f.event.at, type: f.event.type, door_id: f.event.doorId, subject: f.event.subject, reason: f.event.reason, prev_hash: f.prevHash, hash: f.hash, received_at: now }));
    if (!(await this.#repository.append(deviceId, stored, batch.head, rows, now))) {
      throw new VigilError('VIGIL_DEVICE_EVENTS_REJECTED', 'the event chain moved while storing; resend');
    }
    await this.#onStored?.(deviceId, batch.fresh.map((f) => f.event));
    if (batch.restarted || batch.lost > 0) {
      const why = batch.restarted ? 'its event log restarted (power loss or reset)' : `${batch.lost} events were dropped at the edge`;
      this.#audit.record({ category: 'device', action: 'device.events.gap', actor: target, source, target, outcome: 'failure', details: { restarted: batch.restarted, lost: batch.lost, epoch: batch.head.epoch } });
      this.#alarms.raise({ type: EVENTS_LOST_ALARM, severity: 'warning', source: target, message: `controller ${deviceId}: ${why}`, dedupeKey: `${EVENTS_LOST_ALARM}|${target}|${batch.head.epoch}` });
    }
    return batch.head.lastSeq;
  }
}
