// SQL of the device registry (007): devices, enrolment tokens, revocations, and the device CA's
// sealed key in `settings`. Nothing but queries here; the rules live in the services.
import type { Selectable } from 'kysely';
import type { Store } from '../store/database.ts';
import type { DevicesTable } from '../store/schema.ts';

export type DeviceRow = Selectable<DevicesTable>;

export interface TokenRow {
  token_hash: string;
  device_id: string;
  kind: string;
  expires_at: number;
  used_at: number | null;
}

export class DeviceRepository {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get(id: string): Promise<DeviceRow | undefined> {
    return this.#store.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(limit: number): Promise<DeviceRow[]> {
    return this.#store.db.selectFrom('devices').selectAll().orderBy('id').limit(limit).execute();
  }

  /** A new pending device; a pending or revoked one (re-enrolment after revocation) becomes pending. */
  async upsertPending(id: string, kind: string, now: number): Promise<void> {
    await this.#store.db
      .insertInto('devices')
      .values({ id, kind, status: 'pending', trust: 'unknown', cert_serial: null, cert_not_after: null, public_key_id: null, measurement: null, created_at: now, enrolled_at: null, last_seen_at: null, updated_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ kind, status: 'pending', trust: 'unknown', updated_at: now }).where('devices.status', 'in', ['pending', 'revoked']))
      .execute();
  }

  async insertToken(row: TokenRow & { created_by: string; created_at: number }): Promise<void> {
    await this.#store.db.insertInto('device_enrolment_tokens').values(row).execute();
  }

  getToken(tokenHash: string): Promise<TokenRow | undefined> {
    return this.#store.db.selectFrom('device_enrolment_tokens').select(['token_hash', 'device_id', 'kind', 'expires_at', 'used_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Spends the token; false when it was already spent (two enrolments racing: one wins). */
  async spendToken(tokenHash: string, now: number): Promise<boolean> {
    const r = await this.#store.db.updateTable('device_enrolment_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Voids unspent tokens of a device (after enrolment or revocation). */
  async voidTokens(deviceId: string, now: number): Promise<void> {
    await this.#store.db.updateTable('device_enrolment_tokens').set({ used_at: now }).where('device_id', '=', deviceId).where('used_at', 'is', null).execute();
  }

  findByPublicKeyId(publicKeyId: string): Promise<{ id: string } | undefined> {
    return this.#store.db.selectFrom('devices').select('id').where('public_key_id', '=', publicKeyId).executeTakeFirst();
  }

  async markEnrolled(id: string, cert: { serial: string; notAfter: number; publicKeyId: string }, now: number): Promise<void> {
    await this.#store.db
      .updateTable('devices')
      .set({ status: 'enrolled', trust: 'unknown', cert_serial: cert.serial, cert_not_after: cert.notAfter, public_key_id: cert.publicKeyId, measurement: null, enrolled_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** Revokes the device's current certificate: its serial joins the list every connection checks. */
  async revoke(id: string, serial: string | null, reason: string, now: number): Promise<void> {
    await this.#store.db.transaction().execute(async (tx) => {
      if (serial !== null) {
        await tx.insertInto('device_revocations').values({ serial, device_id: id, reason, revoked_at: now }).onConflict((oc) => oc.column('serial').doNothing()).execute();
      }
      await tx.updateTable('devices').set({ status: 'revoked', cert_serial: null, updated_at: now }).where('id', '=', id).execute();
    });
  }

  async isRevoked(serial: string): Promise<boolean> {
    const row = await this.#store.db.selectFrom('device_revocations').select('serial').where('serial', '=', serial).executeTakeFirst();
    return row !== undefined;
  }

  async setTrust(id: string, trust: 'trusted' | 'untrusted', measurement: string | null, now: number): Promise<void> {
    await this.#store.db.updateTable('devices').set({ trust, measurement, updated_at: now }).where('id', '=', id).execute();
  }

  async touch(id: string, now: number): Promise<void> {
    await this.#store.db.updateTable('devices').set({ last_seen_at: now }).where('id', '=', id).execute();
  }

  getSetting(key: string): Promise<{ value: string } | undefined> {
    return this.#store.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  }

  /** Inserts unless present (first writer wins across processes). */
  async insertSetting(key: string, value: string, now: number): Promise<void> {
    await this.#store.db.insertInto('settings').values({ key, value, updated_at: now }).onConflict((oc) => oc.column('key').doNothing()).execute();
  }
}
