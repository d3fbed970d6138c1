// SQL of the discovery toggles and the SNMPv3 user (009), and nothing else.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import { DISCOVERY_OFF, isDiscoveryProtocol, type DiscoveryProtocol, type DiscoveryToggles } from './protocols.ts';

export interface StoredSnmpUser {
  username: string;
  authProtocol: string;
  privProtocol: string;
  sealedPassphrases: Buffer;
}

export class DiscoveryRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async toggles(): Promise<DiscoveryToggles> {
    const rows = await this.#db.selectFrom('discovery_protocols').select(['protocol', 'enabled']).execute();
    const out: Record<DiscoveryProtocol, boolean> = { ...DISCOVERY_OFF };
    for (const r of rows) if (isDiscoveryProtocol(r.protocol)) out[r.protocol] = Number(r.enabled) === 1;
    return out;
  }

  async setToggle(protocol: DiscoveryProtocol, enabled: boolean, by: string, at: number): Promise<void> {
    await this.#db
      .insertInto('discovery_protocols')
      .values({ protocol, enabled: enabled ? 1 : 0, updated_by: by, updated_at: at })
      .onConflict((oc) => oc.column('protocol').doUpdateSet({ enabled: enabled ? 1 : 0, updated_by: by, updated_at: at }))
      .execute();
  }

  async snmpUser(): Promise<StoredSnmpUser | undefined> {
    const row = await this.#db.selectFrom('snmp_users').selectAll().orderBy('updated_at', 'desc').executeTakeFirst();
    return row === undefined ? undefined : { username: row.username, authProtocol: row.auth_protocol, privProtocol: row.priv_protocol, sealedPassphrases: Buffer.from(row.sealed_passphrases) };
  }

  /** The agent has exactly one user: setting one replaces any other. */
  async replaceSnmpUser(user: StoredSnmpUser, at: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('snmp_users').execute();
      await trx
        .insertInto('snmp_users')
        .values({ username: user.username, auth_protocol: user.authProtocol, priv_protocol: user.privProtocol, sealed_passphrases: user.sealedPassphrases, updated_at: at })
        .execute();
    });
  }

  async deleteSnmpUser(): Promise<void> {
    await this.#db.deleteFrom('snmp_users').execute();
  }
}
