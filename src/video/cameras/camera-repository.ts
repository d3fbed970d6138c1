// Repository of cameras: SQL and nothing else.
import type { Kysely, Selectable } from 'kysely';
import type { CamerasTable, Database } from '../../store/schema.ts';

export type CameraRow = Selectable<CamerasTable>;

export class CameraRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(row: CameraRow): Promise<void> {
    await this.#db.insertInto('cameras').values(row).execute();
  }

  async get(id: string): Promise<CameraRow | undefined> {
    return this.#db.selectFrom('cameras').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byName(name: string): Promise<CameraRow | undefined> {
    return this.#db.selectFrom('cameras').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async list(limit: number): Promise<CameraRow[]> {
    return this.#db.selectFrom('cameras').selectAll().orderBy('name').limit(limit).execute();
  }

  async update(id: string, changes: Partial<Omit<CameraRow, 'id' | 'created_at'>>): Promise<void> {
    await this.#db.updateTable('cameras').set(changes).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('cameras').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
