// 003: the recording catalog. One row per segment file: where its copies are, its signed hash
// and the link to the previous segment of the same camera (NVR-5.2.8.1b), and its data key
// wrapped by the keyring (NVR-5.1.2.1b); a shredded segment keeps its row so the chain still
// verifies, but not its key (CAM-T-priv-1).
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';
import { blobType } from '../columns.ts';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('video_segments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('camera_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('fragments', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('volumes', 'text', (c) => c.notNull())
    .addColumn('wrapped_dek', blobType(dialect))
    .addColumn('hash', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('signature', 'text')
    .addColumn('key_id', 'text')
    .addUniqueConstraint('video_segments_camera_seq', ['camera_id', 'seq'])
    .execute();
  await db.schema.createIndex('video_segments_camera_time').on('video_segments').columns(['camera_id', 'started_at']).execute();
  await db.schema.createIndex('video_segments_state').on('video_segments').column('state').execute();
}
