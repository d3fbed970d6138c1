// Repository of sites, areas, doors and schedules: SQL and nothing else.
import type { Kysely, Selectable } from 'kysely';
import type { AccessAreasTable, AccessDoorsTable, AccessSchedulesTable, AccessSitesTable, Database } from '../../store/schema.ts';

export type SiteRow = Selectable<AccessSitesTable>;
export type AreaRow = Selectable<AccessAreasTable>;
export type DoorRow = Selectable<AccessDoorsTable>;
export type ScheduleRow = Selectable<AccessSchedulesTable>;

type Changes<R> = Partial<Omit<R, 'id' | 'created_at'>>;

export class SiteRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertSite(row: SiteRow): Promise<void> {
    await this.#db.insertInto('access_sites').values(row).execute();
  }
  async site(id: string): Promise<SiteRow | undefined> {
    return this.#db.selectFrom('access_sites').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async siteByName(name: string): Promise<SiteRow | undefined> {
    return this.#db.selectFrom('access_sites').selectAll().where('name', '=', name).executeTakeFirst();
  }
  async sites(limit: number): Promise<SiteRow[]> {
    return this.#db.selectFrom('access_sites').selectAll().orderBy('name').limit(limit).execute();
  }
  async updateSite(id: string, changes: Changes<SiteRow>): Promise<void> {
    await this.#db.updateTable('access_sites').set(changes).where('id', '=', id).execute();
  }
  async deleteSite(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('access_sites').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async insertArea(row: AreaRow): Promise<void> {
    await this.#db.insertInto('access_areas').values(row).execute();
  }
  async area(id: string): Promise<AreaRow | undefined> {
    return this.#db.selectFrom('access_areas').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async areas(siteId: string, limit: number): Promise<AreaRow[]> {
    return this.#db.selectFrom('access_areas').selectAll().where('site_id', '=', siteId).orderBy('name').limit(limit).execute();
  }
  async areaByName(siteId: string, name: string): Promise<AreaRow | undefined> {
    return this.#db.selectFrom('access_areas').selectAll().where('site_id', '=', siteId).where('name', '=', name).executeTakeFirst();
  }
  async updateArea(id: string, changes: Changes<AreaRow>): Promise<void> {
    await this.#db.updateTable('access_areas').set(changes).where('id', '=', id).execute();
  }
  async deleteArea(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('access_areas').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async countDoorsUsingArea(areaId: string): Promise<number> {
    const r = await this.#db.selectFrom('access_doors').select((eb) => eb.fn.countAll<string>().as('n')).where((eb) => eb.or([eb('area_from', '=', areaId), eb('area_to', '=', areaId)])).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async insertDoor(row: DoorRow): Promise<void> {
    await this.#db.insertInto('access_doors').values(row).execute();
  }
  async door(id: string): Promise<DoorRow | undefined> {
    return this.#db.selectFrom('access_doors').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async doorByName(siteId: string, name: string): Promise<DoorRow | undefined> {
    return this.#db.selectFrom('access_doors').selectAll().where('site_id', '=', siteId).where('name', '=', name).executeTakeFirst();
  }
  async doors(limit: number, siteId?: string): Promise<DoorRow[]> {
    let q = this.#db.selectFrom('access_doors').selectAll();
    if (siteId !== undefined) q = q.where('site_id', '=', siteId);
    return q.orderBy('name').limit(limit).execute();
  }
  async doorsInInterlockGroup(siteId: string, group: string): Promise<DoorRow[]> {
    return this.#db.selectFrom('access_doors').selectAll().where('site_id', '=', siteId).where('interlock_group', '=', group).limit(64).execute();
  }
  async countDoors(siteId?: string): Promise<number> {
    let q = this.#db.selectFrom('access_doors').select((eb) => eb.fn.countAll<string>().as('n'));
    if (siteId !== undefined) q = q.where('site_id', '=', siteId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }
  async countAreas(siteId: string): Promise<number> {
    const r = await this.#db.selectFrom('access_areas').select((eb) => eb.fn.countAll<string>().as('n')).where('site_id', '=', siteId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  async updateDoor(id: string, changes: Changes<DoorRow>): Promise<void> {
    await this.#db.updateTable('access_doors').set(changes).where('id', '=', id).execute();
  }
  async deleteDoor(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('access_level_doors').where('door_id', '=', id).execute();
      await tx.deleteFrom('access_door_controllers').where('door_id', '=', id).execute();
      const r = await tx.deleteFrom('access_doors').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async doorController(doorId: string): Promise<string | undefined> {
    const r = await this.#db.selectFrom('access_door_controllers').select('controller_id').where('door_id', '=', doorId).executeTakeFirst();
    return r?.controller_id;
  }
  async setDoorController(doorId: string, controllerId: string | null, now: number): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('access_door_controllers').where('door_id', '=', doorId).execute();
      if (controllerId !== null) await tx.insertInto('access_door_controllers').values({ door_id: doorId, controller_id: controllerId, assigned_at: now }).execute();
    });
  }
  async doorsOfController(controllerId: string, limit: number): Promise<DoorRow[]> {
    return this.#db.selectFrom('access_doors').innerJoin('access_door_controllers', 'access_door_controllers.door_id', 'access_doors.id').selectAll('access_doors').where('access_door_controllers.controller_id', '=', controllerId).orderBy('access_doors.id').limit(limit).execute();
  }
  async countDoorsOfController(controllerId: string): Promise<number> {
    const r = await this.#db.selectFrom('access_door_controllers').select((eb) => eb.fn.countAll<string>().as('n')).where('controller_id', '=', controllerId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  /** Controllers with at least one door. */
  async assignedControllers(limit: number): Promise<string[]> {
    const rows = await this.#db.selectFrom('access_door_controllers').select('controller_id').distinct().orderBy('controller_id').limit(limit).execute();
    return rows.map((r) => r.controller_id);
  }
  /** The device registry's kind and status of a device (007), for assignment checks. */
  async device(id: string): Promise<{ kind: string; status: string } | undefined> {
    return this.#db.selectFrom('devices').select(['kind', 'status']).where('id', '=', id).executeTakeFirst();
  }

  async insertSchedule(row: ScheduleRow): Promise<void> {
    await this.#db.insertInto('access_schedules').values(row).execute();
  }
  async schedule(id: string): Promise<ScheduleRow | undefined> {
    return this.#db.selectFrom('access_schedules').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async scheduleByName(name: string): Promise<ScheduleRow | undefined> {
    return this.#db.selectFrom('access_schedules').selectAll().where('name', '=', name).executeTakeFirst();
  }
  async schedulesById(ids: readonly string[]): Promise<ScheduleRow[]> {
    if (ids.length === 0) return [];
    return this.#db.selectFrom('access_schedules').selectAll().where('id', 'in', [...ids]).execute();
  }
  async schedules(limit: number): Promise<ScheduleRow[]> {
    return this.#db.selectFrom('access_schedules').selectAll().orderBy('name').limit(limit).execute();
  }
  async updateSchedule(id: string, changes: Changes<ScheduleRow>): Promise<void> {
    await this.#db.updateTable('access_schedules').set(changes).where('id', '=', id).execute();
  }
  async scheduleUsers(id: string): Promise<number> {
    const levels = await this.#db.selectFrom('access_levels').select((eb) => eb.fn.countAll<string>().as('n')).where('schedule_id', '=', id).executeTakeFirstOrThrow();
    const doors = await this.#db.selectFrom('access_doors').select((eb) => eb.fn.countAll<string>().as('n')).where('unlock_schedule_id', '=', id).executeTakeFirstOrThrow();
    return Number(levels.n) + Number(doors.n);
  }
  async deleteSchedule(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('access_schedules').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
