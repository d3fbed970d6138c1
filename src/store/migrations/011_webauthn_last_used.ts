// 011: when each WebAuthn credential (passkey, security key) last signed a login, so its owner
// can see a key that is used without them and one that is no longer used (NVR-5.4.1.2a). Null
// until first used.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').addColumn('last_used_at', 'bigint').execute();
}
