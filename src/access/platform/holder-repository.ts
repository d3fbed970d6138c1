// Repository of cardholders, credentials, access levels and their assignment: SQL only.
import type { Kysely, Selectable } from 'kysely';
import type { AccessCardholdersTable, AccessCredentialsTable, AccessLevelsTable, Database } from '../../store/schema.ts';

export type CardholderRow = Selectable<AccessCardholdersTable>;
export type CredentialRow = Selectable<AccessCredentialsTable>;
export type LevelRow = Selectable<AccessLevelsTable>;

type Changes<R> = Partial<Omit<R, 'id' | 'created_at'>>;

/** IN lists are split so no query passes more parameters than SQLite and PostgreSQL allow. */
const CHUNK = 500;
async function chunked<T>(ids: readonly string[], query: (part: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await query(ids.slice(i, i + CHUNK))));
  return out;
}

export class HolderRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertCardholder(row: CardholderRow): Promise<void> {
    await this.#db.insertInto('access_cardholders').values(row).execute();
  }
  async cardholder(id: string): Promise<CardholderRow | undefined> {
    return this.#db.selectFrom('access_cardholders').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async cardholders(limit: number, offset: number): Promise<CardholderRow[]> {
    return this.#db.selectFrom('access_cardholders').selectAll().orderBy('name').orderBy('id').limit(limit).offset(offset).execute();
  }
  async countCardholders(): Promise<number> {
    const r = await this.#db.selectFrom('access_cardholders').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  async updateCardholder(id: string, changes: Changes<CardholderRow>): Promise<void> {
    await this.#db.updateTable('access_cardholders').set(changes).where('id', '=', id).execute();
  }
  /** Deletes the holder with its credentials, level assignments and presence. */
  async deleteCardholder(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('access_credentials').where('cardholder_id', '=', id).execute();
      await tx.deleteFrom('access_cardholder_levels').where('cardholder_id', '=', id).execute();
      await tx.deleteFrom('access_presence').where('cardholder_id', '=', id).execute();
      const r = await tx.deleteFrom('access_cardholders').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async insertCredential(row: CredentialRow): Promise<void> {
    await this.#db.insertInto('access_credentials').values(row).execute();
  }
  /** Holder and credential together, or neither (CSV import rows). */
  async insertCardholderWithCredential(holder: CardholderRow, credential: CredentialRow | null, levelIds: readonly string[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.insertInto('access_cardholders').values(holder).execute();
      if (credential !== null) await tx.insertInto('access_credentials').values(credential).execute();
      if (levelIds.length > 0) await tx.insertInto('access_cardholder_levels').values(levelIds.map((l) => ({ cardholder_id: holder.id, level_id: l }))).execute();
    });
  }
  async credential(id: string): Promise<CredentialRow | undefined> {
    return this.#db.selectFrom('access_credentials').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async credentialByCard(format: string, number: string): Promise<CredentialRow | undefined> {
    return this.#db.selectFrom('access_credentials').selectAll().where('card_format', '=', format).where('card_number', '=', number).executeTakeFirst();
  }
  async credentialsOf(cardholderId: string, limit: number): Promise<CredentialRow[]> {
    return this.#db.selectFrom('access_credentials').selectAll().where('cardholder_id', '=', cardholderId).orderBy('created_at').limit(limit).execute();
  }
  async updateCredential(id: string, changes: Changes<CredentialRow>): Promise<void> {
    await this.#db.updateTable('access_credentials').set(changes).where('id', '=', id).execute();
  }
  async deleteCredential(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('access_credentials').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async insertLevel(row: LevelRow, doorIds: readonly string[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.insertInto('access_levels').values(row).execute();
      if (doorIds.length > 0) await tx.insertInto('access_level_doors').values(doorIds.map((d) => ({ level_id: row.id, door_id: d }))).execute();
    });
  }
  async level(id: string): Promise<LevelRow | undefined> {
    return this.#db.selectFrom('access_levels').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async levelByName(name: string): Promise<LevelRow | undefined> {
    return this.#db.selectFrom('access_levels').selectAll().where('name', '=', name).executeTakeFirst();
  }
  async levels(limit: number): Promise<LevelRow[]> {
    return this.#db.selectFrom('access_levels').selectAll().orderBy('name').limit(limit).execute();
  }
  async levelDoors(levelIds: readonly string[]): Promise<Array<{ level_id: string; door_id: string }>> {
    if (levelIds.length === 0) return [];
    return this.#db.selectFrom('access_level_doors').selectAll().where('level_id', 'in', [...levelIds]).execute();
  }
  async updateLevel(id: string, changes: Changes<LevelRow>, doorIds: readonly string[] | undefined): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.updateTable('access_levels').set(changes).where('id', '=', id).execute();
      if (doorIds === undefined) return;
      await tx.deleteFrom('access_level_doors').where('level_id', '=', id).execute();
      if (doorIds.length > 0) await tx.insertInto('access_level_doors').values(doorIds.map((d) => ({ level_id: id, door_id: d }))).execute();
    });
  }
  async deleteLevel(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('access_level_doors').where('level_id', '=', id).execute();
      await tx.deleteFrom('access_cardholder_levels').where('level_id', '=', id).execute();
      const r = await tx.deleteFrom('access_levels').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  // ---- what one controller's credential set is compiled from (credential-set-publisher.ts)
  async levelsByIds(ids: readonly string[]): Promise<LevelRow[]> {
    return chunked(ids, (part) => this.#db.selectFrom('access_levels').selectAll().where('id', 'in', part).execute());
  }
  async levelDoorsOfDoors(doorIds: readonly string[]): Promise<Array<{ level_id: string; door_id: string }>> {
    return chunked(doorIds, (part) => this.#db.selectFrom('access_level_doors').selectAll().where('door_id', 'in', part).execute());
  }
  async holderLevelsOfLevels(levelIds: readonly string[]): Promise<Array<{ cardholder_id: string; level_id: string }>> {
    return chunked(levelIds, (part) => this.#db.selectFrom('access_cardholder_levels').selectAll().where('level_id', 'in', part).execute());
  }
  async lockdownOverrideHolderIds(limit: number): Promise<string[]> {
    const rows = await this.#db.selectFrom('access_cardholders').select('id').where('lockdown_override', '=', 1).limit(limit).execute();
    return rows.map((r) => r.id);
  }
  async cardholdersByIds(ids: readonly string[]): Promise<CardholderRow[]> {
    return chunked(ids, (part) => this.#db.selectFrom('access_cardholders').selectAll().where('id', 'in', part).execute());
  }
  async credentialsOfHolders(ids: readonly string[]): Promise<CredentialRow[]> {
    return chunked(ids, (part) => this.#db.selectFrom('access_credentials').selectAll().where('cardholder_id', 'in', part).execute());
  }

  async levelIdsOf(cardholderId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('access_cardholder_levels').select('level_id').where('cardholder_id', '=', cardholderId).execute();
    return rows.map((r) => r.level_id);
  }
  async setLevelsOf(cardholderId: string, levelIds: readonly string[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('access_cardholder_levels').where('cardholder_id', '=', cardholderId).execute();
      if (levelIds.length > 0) await tx.insertInto('access_cardholder_levels').values(levelIds.map((l) => ({ cardholder_id: cardholderId, level_id: l }))).execute();
    });
  }
}
