// Repository of access events and anti-passback presence: SQL only.
import type { Kysely, Selectable } from 'kysely';
import type { AccessEventsTable, Database } from '../../store/schema.ts';

export type AccessEventRow = Selectable<AccessEventsTable>;

export interface EventFilter {
  from?: number;
  to?: number;
  doorIds?: readonly string[];
  cardholderId?: string;
  limit: number;
}

export class AccessEventRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: AccessEventRow): Promise<void> {
    await this.#db.insertInto('access_events').values(row).execute();
  }

  /** Newest first. */
  async list(f: EventFilter): Promise<AccessEventRow[]> {
    let q = this.#db.selectFrom('access_events').selectAll();
    if (f.from !== undefined) q = q.where('at', '>=', f.from);
    if (f.to !== undefined) q = q.where('at', '<', f.to);
    if (f.doorIds !== undefined) {
      if (f.doorIds.length === 0) return [];
      q = q.where('door_id', 'in', [...f.doorIds]);
    }
    if (f.cardholderId !== undefined) q = q.where('cardholder_id', '=', f.cardholderId);
    return q.orderBy('at', 'desc').orderBy('id').limit(f.limit).execute();
  }

  async presence(cardholderId: string, siteId: string): Promise<string | null> {
    const row = await this.#db.selectFrom('access_presence').select('area_id').where('cardholder_id', '=', cardholderId).where('site_id', '=', siteId).executeTakeFirst();
    return row?.area_id ?? null;
  }

  async setPresence(cardholderId: string, siteId: string, areaId: string, at: number): Promise<void> {
    await this.#db
      .insertInto('access_presence')
      .values({ cardholder_id: cardholderId, site_id: siteId, area_id: areaId, updated_at: at })
      .onConflict((oc) => oc.column('cardholder_id').doUpdateSet({ site_id: siteId, area_id: areaId, updated_at: at }))
      .execute();
  }

  /** Forgets all presence on a site (operator reset of anti-passback, e.g. at midnight). */
  async clearPresence(siteId: string): Promise<void> {
    await this.#db.deleteFrom('access_presence').where('site_id', '=', siteId).execute();
  }
}
