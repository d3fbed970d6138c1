// 006: RTSP Digest verifiers of Vigil accounts for the camera role. Digest needs HA1 =
// H(user:realm:password) on the server; it is derived when the password is set and kept sealed
// by the keyring, never in clear (NVR-5.2.4.1a, CAM-T-auth-1).
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';
import { blobType } from '../columns.ts';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('rtsp_digest_credentials')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('sealed_ha1', blobType(dialect), (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rtsp_digest_credentials_pk', ['user_id', 'algorithm'])
    .execute();
}
