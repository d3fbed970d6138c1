// Sites, areas, doors and schedules: the rules and the audit of every change (ACS-5.2.1.12).
// Lockdown is switched here too; the door runtime reads it from the site row.
import { randomUUID } from 'node:crypto';
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import { isoTime, type Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import type { RequestContext } from '../../identity/types.ts';
import type { Store } from '../../store/database.ts';
import type { AccessEventLog } from './event-log.ts';
import { isTimeZone } from './schedule.ts';
import { SiteRepository, type AreaRow, type DoorRow, type ScheduleRow, type SiteRow } from './site-repository.ts';
import { ANTI_PASSBACK_MODES, DOOR_MODES, type AntiPassbackMode, type DoorMode, type Holiday, type ScheduleFacts, type WeeklyInterval } from './types.ts';
import { actorName, auditChange, checkHolidays, checkIntervals, checkName, checkOneOf, invalid, notFound } from './validation.ts';

export const MAX_SITES = 100;
export const MAX_AREAS_PER_SITE = 200;
export const MAX_DOORS = 5000;
export const MAX_SCHEDULES = 500;
/** A controller's decision index holds at most 64 doors (decision-index.ts). */
export const MAX_DOORS_PER_CONTROLLER = 64;
export const MAX_CONTROLLERS = 10_000;

export interface SiteView { id: string; name: string; timezone: string; lockdown: boolean; lockdownChangedAt: number | null; createdAt: number; updatedAt: number }
export interface AreaView { id: string; siteId: string; name: string; antiPassback: AntiPassbackMode }
export interface DoorInput {
  siteId: string;
  name: string;
  areaFrom?: string | null;
  areaTo?: string | null;
  lockOutput: number;
  doorPositionInput?: number | null;
  rexInput?: number | null;
  mode?: DoorMode;
  unlockSeconds?: number;
  heldOpenSeconds?: number;
  interlockGroup?: string | null;
  unlockScheduleId?: string | null;
  firstPersonIn?: boolean;
}
export interface DoorView extends Required<DoorInput> { id: string; createdAt: number; updatedAt: number }
export interface ScheduleInput { name: string; intervals: WeeklyInterval[]; holidays?: Holiday[] }
export interface ScheduleView { id: string; name: string; intervals: WeeklyInterval[]; holidays: Holiday[] }

const siteView = (r: SiteRow): SiteView => ({ id: r.id, name: r.name, timezone: r.timezone, lockdown: r.lockdown === 1, lockdownChangedAt: r.lockdown_changed_at, createdAt: r.created_at, updatedAt: r.updated_at });
const areaView = (r: AreaRow): AreaView => ({ id: r.id, siteId: r.site_id, name: r.name, antiPassback: r.anti_passback as AntiPassbackMode });
export function doorView(r: DoorRow): DoorView {
  return {
    id: r.id, siteId: r.site_id, name: r.name, areaFrom: r.area_from, areaTo: r.area_to, lockOutput: r.lock_output,
    doorPositionInput: r.door_position_input, rexInput: r.rex_input, mode: r.mode as DoorMode, unlockSeconds: r.unlock_seconds,
    heldOpenSeconds: r.held_open_seconds, interlockGroup: r.interlock_group, unlockScheduleId: r.unlock_schedule_id,
    firstPersonIn: r.first_person_in === 1, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
export function scheduleFacts(r: ScheduleRow): ScheduleFacts {
  return { id: r.id, intervals: JSON.parse(r.intervals) as WeeklyInterval[], holidays: JSON.parse(r.holidays) as Holiday[] };
}
const scheduleView = (r: ScheduleRow): ScheduleView => ({ name: r.name, ...scheduleFacts(r) });

function checkIo(field: string, v: number | null | undefined): void {
  if (v !== null && v !== undefined && (!Number.isInteger(v) || v < 0 || v > 255)) throw invalid(field, 'controller I/O number 0-255');
}

export class SiteService {
  readonly repo: SiteRepository;
  readonly #audit: AuditSink;
  readonly #alarms: AlarmSink;
  readonly #clock: Clock;
  readonly #events: AccessEventLog;

  readonly #changed: () => void;

  /** `changed`: told after every change a controller's credential set may depend on. */
  constructor(o: { store: Store; audit: AuditSink; alarms: AlarmSink; clock: Clock; events: AccessEventLog; changed?: () => void }) {
    this.repo = new SiteRepository(o.store.db);
    this.#audit = o.audit;
    this.#alarms = o.alarms;
    this.#clock = o.clock;
    this.#events = o.events;
    this.#changed = o.changed ?? (() => {});
  }

  // ---- sites
  async listSites(): Promise<SiteView[]> {
    return (await this.repo.sites(MAX_SITES)).map(siteView);
  }
  async getSite(id: string): Promise<SiteView> {
    return siteView(await this.#site(id));
  }
  async createSite(input: { name: string; timezone?: string }, ctx: RequestContext): Promise<SiteView> {
    checkName('name', input.name);
    const timezone = input.timezone ?? 'UTC';
    if (!isTimeZone(timezone)) throw invalid('timezone', 'an IANA time zone such as Europe/Berlin');
    if ((await this.repo.sites(MAX_SITES)).length >= MAX_SITES) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_SITES} sites`);
    if ((await this.repo.siteByName(input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a site named ${input.name} exists`);
    const now = this.#clock.now();
    const row: SiteRow = { id: randomUUID(), name: input.name, timezone, lockdown: 0, lockdown_changed_at: null, created_at: now, updated_at: now };
    await this.repo.insertSite(row);
    auditChange(this.#audit, ctx, 'access.site.create', `site:${row.id}`, { name: row.name, timezone });
    return siteView(row);
  }
  async updateSite(id: string, patch: { name?: string; timezone?: string }, ctx: RequestContext): Promise<SiteView> {
    const current = await this.#site(id);
    const changes: Partial<SiteRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined && patch.name !== current.name) {
      checkName('name', patch.name);
      if ((await this.repo.siteByName(patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a site named ${patch.name} exists`);
      changes.name = patch.name;
    }
    if (patch.timezone !== undefined) {
      if (!isTimeZone(patch.timezone)) throw invalid('timezone', 'an IANA time zone such as Europe/Berlin');
      changes.timezone = patch.timezone;
    }
    await this.repo.updateSite(id, changes);
    auditChange(this.#audit, ctx, 'access.site.update', `site:${id}`, { fields: Object.keys(patch).sort().join(',') });
    this.#changed();
    return siteView(await this.#site(id));
  }
  async deleteSite(id: string, ctx: RequestContext): Promise<void> {
    await this.#site(id);
    if ((await this.repo.countDoors(id)) > 0 || (await this.repo.countAreas(id)) > 0) throw new VigilError('VIGIL_ACCESS_IN_USE', 'the site still has doors or areas');
    await this.repo.deleteSite(id);
    auditChange(this.#audit, ctx, 'access.site.delete', `site:${id}`);
  }

  /** Site lockdown on/off: audited, logged as an access event, alarmed while on. */
  async setLockdown(id: string, on: boolean, ctx: RequestContext): Promise<SiteView> {
    const site = await this.#site(id);
    const now = this.#clock.now();
    await this.repo.updateSite(id, { lockdown: on ? 1 : 0, lockdown_changed_at: now, updated_at: now });
    auditChange(this.#audit, ctx, on ? 'access.lockdown.on' : 'access.lockdown.off', `site:${id}`, { was: site.lockdown === 1 });
    this.#changed();
    await this.#events.append({ ts: isoTime(now), category: 'lockdown', type: on ? 'lockdown.on' : 'lockdown.off', outcome: 'info', reason: on ? 'lockdown_on' : 'lockdown_off', source: actorName(ctx), siteId: id, doorId: null, cardholderId: null, credentialId: null, details: { sourceIp: ctx.sourceIp } });
    const key = `access.lockdown|site:${id}`;
    if (on) this.#alarms.raise({ type: 'access.lockdown', severity: 'critical', source: `site:${id}`, message: `site ${site.name} locked down`, dedupeKey: key });
    else this.#alarms.clear(key, `lockdown lifted by ${actorName(ctx)}`);
    return siteView(await this.#site(id));
  }

  // ---- areas
  async listAreas(siteId: string): Promise<AreaView[]> {
    await this.#site(siteId);
    return (await this.repo.areas(siteId, MAX_AREAS_PER_SITE)).map(areaView);
  }
  async createArea(siteId: string, input: { name: string; antiPassback?: AntiPassbackMode }, ctx: RequestContext): Promise<AreaView> {
    await this.#site(siteId);
    checkName('name', input.name);
    const antiPassback = checkOneOf('antiPassback', input.antiPassback ?? 'off', ANTI_PASSBACK_MODES);
    if ((await this.repo.countAreas(siteId)) >= MAX_AREAS_PER_SITE) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_AREAS_PER_SITE} areas per site`);
    if ((await this.repo.areaByName(siteId, input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `an area named ${input.name} exists on this site`);
    const now = this.#clock.now();
    const row: AreaRow = { id: randomUUID(), site_id: siteId, name: input.name, anti_passback: antiPassback, created_at: now, updated_at: now };
    await this.repo.insertArea(row);
    auditChange(this.#audit, ctx, 'access.area.create', `area:${row.id}`, { site: siteId, name: row.name, antiPassback });
    return areaView(row);
  }
  async updateArea(id: string, patch: { name?: string; antiPassback?: AntiPassbackMode }, ctx: RequestContext): Promise<AreaView> {
    const area = await this.#area(id);
    const changes: Partial<AreaRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined && patch.name !== area.name) {
      checkName('name', patch.name);
      if ((await this.repo.areaByName(area.site_id, patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `an area named ${patch.name} exists on this site`);
      changes.name = patch.name;
    }
    if (patch.antiPassback !== undefined) changes.anti_passback = checkOneOf('antiPassback', patch.antiPassback, ANTI_PASSBACK_MODES);
    await this.repo.updateArea(id, changes);
    auditChange(this.#audit, ctx, 'access.area.update', `area:${id}`, { fields: Object.keys(patch).sort().join(','), antiPassback: changes.anti_passback ?? null });
    return areaView(await this.#area(id));
  }
  async deleteArea(id: string, ctx: RequestContext): Promise<void> {
    await this.#area(id);
    if ((await this.repo.countDoorsUsingArea(id)) > 0) throw new VigilError('VIGIL_ACCESS_IN_USE', 'doors still lead from or into this area');
    await this.repo.deleteArea(id);
    auditChange(this.#audit, ctx, 'access.area.delete', `area:${id}`);
  }

  // ---- doors
  async listDoors(visible: 'all' | ReadonlySet<string> = 'all', siteId?: string): Promise<DoorView[]> {
    const rows = await this.repo.doors(MAX_DOORS, siteId);
    return rows.filter((r) => visible === 'all' || visible.has(r.id)).map(doorView);
  }
  async getDoor(id: string): Promise<DoorView> {
    return doorView(await this.door(id));
  }
  async createDoor(input: DoorInput, ctx: RequestContext): Promise<DoorView> {
    await this.#site(input.siteId);
    const merged = await this.#checkDoor({ ...input });
    if ((await this.repo.countDoors()) >= MAX_DOORS) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_DOORS} doors`);
    if ((await this.repo.doorByName(input.siteId, input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a door named ${input.name} exists on this site`);
    const now = this.#clock.now();
    const row: DoorRow = { id: randomUUID(), ...doorColumns(merged), created_at: now, updated_at: now };
    await this.repo.insertDoor(row);
    auditChange(this.#audit, ctx, 'access.door.create', `door:${row.id}`, { site: row.site_id, name: row.name, mode: row.mode });
    return doorView(row);
  }
  async updateDoor(id: string, patch: Partial<Omit<DoorInput, 'siteId'>>, ctx: RequestContext): Promise<DoorView> {
    const current = doorView(await this.door(id));
    const merged = await this.#checkDoor({ ...current, ...patch, siteId: current.siteId });
    if (patch.name !== undefined && patch.name !== current.name && (await this.repo.doorByName(current.siteId, patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a door named ${patch.name} exists on this site`);
    await this.repo.updateDoor(id, { ...doorColumns(merged), updated_at: this.#clock.now() });
    auditChange(this.#audit, ctx, 'access.door.update', `door:${id}`, { fields: Object.keys(patch).sort().join(','), mode: merged.mode });
    this.#changed();
    return doorView(await this.door(id));
  }
  async deleteDoor(id: string, ctx: RequestContext): Promise<void> {
    if (!(await this.repo.deleteDoor(id))) throw notFound('door', id);
    auditChange(this.#audit, ctx, 'access.door.delete', `door:${id}`);
    this.#changed();
  }

  /** The enrolled controller driving a door, or null. */
  async doorController(id: string): Promise<{ doorId: string; controllerId: string | null }> {
    await this.door(id);
    return { doorId: id, controllerId: (await this.repo.doorController(id)) ?? null };
  }
  /** Assigns a door to an enrolled controller (its device ID), or clears it with null. */
  async setDoorController(id: string, controllerId: string | null, ctx: RequestContext): Promise<{ doorId: string; controllerId: string | null }> {
    await this.door(id);
    const before = (await this.repo.doorController(id)) ?? null;
    if (controllerId !== null && controllerId !== before) {
      const device = await this.repo.device(controllerId);
      if (device === undefined || device.kind !== 'controller') throw invalid('controllerId', 'not a door controller of the device registry');
      if (device.status === 'revoked') throw invalid('controllerId', 'the controller is revoked');
      if ((await this.repo.countDoorsOfController(controllerId)) >= MAX_DOORS_PER_CONTROLLER) throw new VigilError('VIGIL_CONFLICT', `a controller drives at most ${MAX_DOORS_PER_CONTROLLER} doors`);
    }
    await this.repo.setDoorController(id, controllerId, this.#clock.now());
    auditChange(this.#audit, ctx, controllerId === null ? 'access.door.controller.clear' : 'access.door.controller.set', `door:${id}`, { controller: controllerId, was: before });
    this.#changed();
    return { doorId: id, controllerId };
  }

  async #checkDoor(d: DoorInput): Promise<Required<DoorInput>> {
    checkName('name', d.name);
    if (!Number.isInteger(d.lockOutput) || d.lockOutput < 0 || d.lockOutput > 255) throw invalid('lockOutput', 'controller output number 0-255');
    checkIo('doorPositionInput', d.doorPositionInput);
    checkIo('rexInput', d.rexInput);
    const mode = checkOneOf('mode', d.mode ?? 'card', DOOR_MODES);
    const unlockSeconds = d.unlockSeconds ?? 5;
    const heldOpenSeconds = d.heldOpenSeconds ?? 30;
    if (!Number.isInteger(unlockSeconds) || unlockSeconds < 1 || unlockSeconds > 300) throw invalid('unlockSeconds', '1 to 300');
    if (!Number.isInteger(heldOpenSeconds) || heldOpenSeconds < 1 || heldOpenSeconds > 3600) throw invalid('heldOpenSeconds', '1 to 3600');
    if (d.interlockGroup !== undefined && d.interlockGroup !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(d.interlockGroup)) throw invalid('interlockGroup', '1-64 letters, digits, _ . -');
    for (const [field, areaId] of [['areaFrom', d.areaFrom], ['areaTo', d.areaTo]] as const) {
      if (areaId === undefined || areaId === null) continue;
      const area = await this.repo.area(areaId);
      if (area === undefined || area.site_id !== d.siteId) throw invalid(field, 'not an area of the door\'s site');
    }
    if (d.areaFrom !== undefined && d.areaFrom !== null && d.areaFrom === d.areaTo) throw invalid('areaTo', 'must differ from areaFrom');
    if (d.unlockScheduleId !== undefined && d.unlockScheduleId !== null && (await this.repo.schedule(d.unlockScheduleId)) === undefined) throw invalid('unlockScheduleId', 'no such schedule');
    if (d.firstPersonIn === true && (d.unlockScheduleId ?? null) === null) throw invalid('firstPersonIn', 'needs an unlock schedule');
    return {
      siteId: d.siteId, name: d.name, areaFrom: d.areaFrom ?? null, areaTo: d.areaTo ?? null, lockOutput: d.lockOutput,
      doorPositionInput: d.doorPositionInput ?? null, rexInput: d.rexInput ?? null, mode, unlockSeconds, heldOpenSeconds,
      interlockGroup: d.interlockGroup ?? null, unlockScheduleId: d.unlockScheduleId ?? null, firstPersonIn: d.firstPersonIn ?? false,
    };
  }

  // ---- schedules
  async listSchedules(): Promise<ScheduleView[]> {
    return (await this.repo.schedules(MAX_SCHEDULES)).map(scheduleView);
  }
  async getSchedule(id: string): Promise<ScheduleView> {
    return scheduleView(await this.#schedule(id));
  }
  async createSchedule(input: ScheduleInput, ctx: RequestContext): Promise<ScheduleView> {
    checkName('name', input.name);
    checkIntervals(input.intervals);
    checkHolidays(input.holidays ?? []);
    if ((await this.repo.schedules(MAX_SCHEDULES)).length >= MAX_SCHEDULES) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_SCHEDULES} schedules`);
    if ((await this.repo.scheduleByName(input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a schedule named ${input.name} exists`);
    const now = this.#clock.now();
    const row: ScheduleRow = { id: randomUUID(), name: input.name, intervals: JSON.stringify(input.intervals), holidays: JSON.stringify(input.holidays ?? []), created_at: now, updated_at: now };
    await this.repo.insertSchedule(row);
    auditChange(this.#audit, ctx, 'access.schedule.create', `schedule:${row.id}`, { name: row.name, intervals: input.intervals.length, holidays: (input.holidays ?? []).length });
    return scheduleView(row);
  }
  async updateSchedule(id: string, patch: Partial<ScheduleInput>, ctx: RequestContext): Promise<ScheduleView> {
    const current = await this.#schedule(id);
    const changes: Partial<ScheduleRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined && patch.name !== current.name) {
      checkName('name', patch.name);
      if ((await this.repo.scheduleByName(patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a schedule named ${patch.name} exists`);
      changes.name = patch.name;
    }
    if (patch.intervals !== undefined) {
      checkIntervals(patch.intervals);
      changes.intervals = JSON.stringify(patch.intervals);
    }
    if (patch.holidays !== undefined) {
      checkHolidays(patch.holidays);
      changes.holidays = JSON.stringify(patch.holidays);
    }
    await this.repo.updateSchedule(id, changes);
    auditChange(this.#audit, ctx, 'access.schedule.update', `schedule:${id}`, { fields: Object.keys(patch).sort().join(',') });
    this.#changed();
    return scheduleView(await this.#schedule(id));
  }
  async deleteSchedule(id: string, ctx: RequestContext): Promise<void> {
    await this.#schedule(id);
    if ((await this.repo.scheduleUsers(id)) > 0) throw new VigilError('VIGIL_ACCESS_IN_USE', 'access levels or doors still use this schedule');
    await this.repo.deleteSchedule(id);
    auditChange(this.#audit, ctx, 'access.schedule.delete', `schedule:${id}`);
    this.#changed();
  }

  async door(id: string): Promise<DoorRow> {
    const row = await this.repo.door(id);
    if (row === undefined) throw notFound('door', id);
    return row;
  }
  async #site(id: string): Promise<SiteRow> {
    const row = await this.repo.site(id);
    if (row === undefined) throw notFound('site', id);
    return row;
  }
  async #area(id: string): Promise<AreaRow> {
    const row = await this.repo.area(id);
    if (row === undefined) throw notFound('area', id);
    return row;
  }
  async #schedule(id: string): Promise<ScheduleRow> {
    const row = await this.repo.schedule(id);
    if (row === undefined) throw notFound('schedule', id);
    return row;
  }
}

function doorColumns(d: Required<DoorInput>): Omit<DoorRow, 'id' | 'created_at' | 'updated_at'> {
  return {
    site_id: d.siteId, name: d.name, area_from: d.areaFrom, area_to: d.areaTo, lock_output: d.lockOutput,
    door_position_input: d.doorPositionInput, rex_input: d.rexInput, mode: d.mode, unlock_seconds: d.unlockSeconds,
    held_open_seconds: d.heldOpenSeconds, interlock_group: d.interlockGroup, unlock_schedule_id: d.unlockScheduleId,
    first_person_in: d.firstPersonIn ? 1 : 0,
  };
}
