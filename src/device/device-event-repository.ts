// SQL of the events controllers forward (007): the chain head per device and the events, written
// together in one transaction so the head never runs ahead of the stored events.
import type { Store } from '../store/database.ts';
import type { DeviceEventsTable } from '../store/schema.ts';

export interface EventHead {
  epoch: number;
  lastSeq: number;
  lastHash: string;
}

export class DeviceEventRepository {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async head(deviceId: string): Promise<EventHead | undefined> {
    const row = await this.#store.db.selectFrom('device_event_heads').select(['epoch', 'last_seq', 'last_hash']).where('device_id', '=', deviceId).executeTakeFirst();
    return row === undefined ? undefined : { epoch: row.epoch, lastSeq: row.last_seq, lastHash: row.last_hash };
  }

  /**
   * Appends events and moves the head, only if the head is still `expected` (another process
   * appending for the same device makes this one fail rather than fork the chain).
   */
  async append(deviceId: string, expected: EventHead | undefined, head: EventHead, events: DeviceEventsTable[], now: number): Promise<boolean> {
    return this.#store.db.transaction().execute(async (tx) => {
      if (expected === undefined) {
        const r = await tx.insertInto('device_event_heads').values({ device_id: deviceId, epoch: head.epoch, last_seq: head.lastSeq, last_hash: head.lastHash, updated_at: now }).onConflict((oc) => oc.column('device_id').doNothing()).executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
      } else {
        const r = await tx
          .updateTable('device_event_heads')
          .set({ epoch: head.epoch, last_seq: head.lastSeq, last_hash: head.lastHash, updated_at: now })
          .where('device_id', '=', deviceId)
          .where('epoch', '=', expected.epoch)
          .where('last_seq', '=', expected.lastSeq)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
      }
      // Bounded by MAX_EVENTS_PER_BATCH per call; chunks keep under SQLite's variable limit.
      for (let i = 0; i < events.length; i += 200) await tx.insertInto('device_events').values(events.slice(i, i + 200)).execute();
      return true;
    });
  }

  async hashAt(deviceId: string, epoch: number, seq: number): Promise<string | undefined> {
    const row = await this.#store.db.selectFrom('device_events').select('hash').where('device_id', '=', deviceId).where('epoch', '=', epoch).where('seq', '=', seq).executeTakeFirst();
    return row?.hash;
  }

  list(deviceId: string, limit: number): Promise<DeviceEventsTable[]> {
    return this.#store.db.selectFrom('device_events').selectAll().where('device_id', '=', deviceId).orderBy('epoch').orderBy('seq').limit(limit).execute();
  }
}
