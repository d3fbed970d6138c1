// 008: WS-Security UsernameToken verifiers of Vigil accounts for the camera role's ONVIF
// service. PasswordDigest = SHA-1(nonce + created + password) needs the password itself on the
// device (WSS UsernameToken Profile 1.0 §3.1): it is captured when a password is set, only while
// the camera role is enabled, and kept sealed by the keyring, never in clear (NVR-5.2.4.1a,
// CAM-T-auth-1). The rows are deleted when the camera role is turned off.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';
import { blobType } from '../columns.ts';

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('onvif_credentials')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('sealed_password', blobType(dialect), (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
