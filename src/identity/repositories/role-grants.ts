// SQL for role_grants.
import type { Kysely, Selectable } from 'kysely';
import type { Database, RoleGrantsTable } from '../../store/schema.ts';

export type RoleGrantRow = Selectable<RoleGrantsTable>;

export interface GrantKey {
  role: string;
  scopeKind: string;
  scopeId: string;
}

export class RoleGrantsRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async listByUser(userId: string): Promise<RoleGrantRow[]> {
    return this.#db
      .selectFrom('role_grants')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('role')
      .orderBy('scope_kind')
      .orderBy('scope_id')
      .execute();
  }

  /** Inserts the grant; false when the user already had it. */
  async insert(row: { id: string; userId: string; createdAt: number } & GrantKey): Promise<boolean> {
    const result = await this.#db
      .insertInto('role_grants')
      .values({ id: row.id, user_id: row.userId, role: row.role, scope_kind: row.scopeKind, scope_id: row.scopeId, created_at: row.createdAt })
      .onConflict((oc) => oc.columns(['user_id', 'role', 'scope_kind', 'scope_id']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async delete(userId: string, grant: GrantKey): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('role_grants')
      .where('user_id', '=', userId)
      .where('role', '=', grant.role)
      .where('scope_kind', '=', grant.scopeKind)
      .where('scope_id', '=', grant.scopeId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Enabled users holding `role` globally, optionally not counting one user. */
  async countEnabledGlobalHolders(role: string, exceptUserId?: string): Promise<number> {
    let query = this.#db
      .selectFrom('role_grants')
      .innerJoin('users', 'users.id', 'role_grants.user_id')
      .select((eb) => eb.fn.count<number>('users.id').distinct().as('n'))
      .where('role_grants.role', '=', role)
      .where('role_grants.scope_kind', '=', 'global')
      .where('users.disabled', '=', 0);
    if (exceptUserId !== undefined) query = query.where('users.id', '!=', exceptUserId);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
