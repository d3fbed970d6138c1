// 012: the edge PIN verifiers of each credential (issue #6, src/access/edge-pin.ts): PBKDF2 of
// the PIN and of the duress PIN, derived when a PIN is set and sealed by the keyring, so a
// controller can check a keypad PIN offline. Credentials whose PIN was set before keep null:
// card-and-PIN doors refuse them at the edge until the PIN is set again.
import type { Kysely } from 'kysely';
import type { DialectName } from '../database.ts';

export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('access_credentials').addColumn('pin_edge_verifier', 'text').execute();
  await db.schema.alterTable('access_credentials').addColumn('duress_pin_edge_verifier', 'text').execute();
}
