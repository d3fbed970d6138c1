// Repository of the recording catalog (video_segments): SQL and nothing else.
import type { Kysely, Selectable } from 'kysely';
import type { Database, VideoSegmentsTable } from '../../store/schema.ts';

export type SegmentRow = Selectable<VideoSegmentsTable>;
export const GENESIS_HASH = '0'.repeat(64);

export class SegmentCatalog {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: SegmentRow): Promise<void> {
    await this.#db.insertInto('video_segments').values(row).execute();
  }

  async get(id: string): Promise<SegmentRow | undefined> {
    return this.#db.selectFrom('video_segments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The camera's last segment in chain order, whatever its state. */
  async last(cameraId: string): Promise<SegmentRow | undefined> {
    return this.#db.selectFrom('video_segments').selectAll().where('camera_id', '=', cameraId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  async previous(cameraId: string, seq: number): Promise<SegmentRow | undefined> {
    return this.#db.selectFrom('video_segments').selectAll().where('camera_id', '=', cameraId).where('seq', '<', seq).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  async update(id: string, changes: Partial<Omit<SegmentRow, 'id'>>): Promise<void> {
    await this.#db.updateTable('video_segments').set(changes).where('id', '=', id).execute();
  }

  async inState(state: string, limit: number): Promise<SegmentRow[]> {
    return this.#db.selectFrom('video_segments').selectAll().where('state', '=', state).orderBy('started_at').limit(limit).execute();
  }

  /** Segments of a camera overlapping [from, to), oldest first. */
  async overlapping(cameraId: string, from: number, to: number, limit: number): Promise<SegmentRow[]> {
    return this.#db
      .selectFrom('video_segments')
      .selectAll()
      .where('camera_id', '=', cameraId)
      .where('started_at', '<', to)
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', from)]))
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** A camera's chain in order, from `afterSeq`, for verification. */
  async chain(cameraId: string, afterSeq: number, limit: number): Promise<SegmentRow[]> {
    return this.#db.selectFrom('video_segments').selectAll().where('camera_id', '=', cameraId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  }

  async cameras(): Promise<string[]> {
    const rows = await this.#db.selectFrom('video_segments').select('camera_id').distinct().execute();
    return rows.map((r) => r.camera_id);
  }

  /** Complete segments that ended before `before`, oldest first (retention). */
  async endedBefore(cameraId: string | undefined, before: number, limit: number): Promise<SegmentRow[]> {
    let q = this.#db.selectFrom('video_segments').selectAll().where('state', 'in', ['complete', 'tampered']).where('ended_at', '<', before);
    if (cameraId !== undefined) q = q.where('camera_id', '=', cameraId);
    return q.orderBy('ended_at').limit(limit).execute();
  }

  /** Complete segments after `afterId` in id order: the periodic verification walk. */
  async completeAfter(afterId: string, limit: number): Promise<SegmentRow[]> {
    return this.#db.selectFrom('video_segments').selectAll().where('state', '=', 'complete').where('id', '>', afterId).orderBy('id').limit(limit).execute();
  }

  /** Segments (recording or kept) with a copy on `volumeId`, and their bytes: the storage page. */
  async usageOnVolume(volumeId: string): Promise<{ segments: number; bytes: number }> {
    const row = await this.#db
      .selectFrom('video_segments')
      .select((eb) => [eb.fn.countAll<string | number>().as('segments'), eb.fn.sum<string | number | null>('bytes').as('bytes')])
      .where('volumes', 'like', `%"${volumeId}"%`)
      .where('state', 'in', ['recording', 'complete', 'tampered'])
      .executeTakeFirst();
    return { segments: Number(row?.segments ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /** Segments holding a copy on `volumeId` (JSON text match on the quoted id). */
  async onVolume(volumeId: string, afterId: string, limit: number): Promise<SegmentRow[]> {
    return this.#db
      .selectFrom('video_segments')
      .selectAll()
      .where('volumes', 'like', `%"${volumeId}"%`)
      .where('state', 'in', ['complete', 'tampered'])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
