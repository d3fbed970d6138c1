// The door runtime: gathers a snapshot, lets the pure engine decide, stores every decision as
// an access event (ACS-5.6.1.1), raises the engine's alarms, keeps anti-passback presence, and
// runs the door monitor (forced/held open) and first-person-in state. Door states live in
// memory, one entry per existing door (bounded by MAX_DOORS).
import type { AlarmSink } from '../../alarms/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Store } from '../../store/database.ts';
import { decide } from './decision-engine.ts';
import { CLOSED_DOOR, doorUnlocked, stepDoor, type DoorInput, type DoorState } from './door-monitor.ts';
import type { AccessEvent, AccessEventLog } from './event-log.ts';
import type { EventFilter } from './event-repository.ts';
import { HolderRepository } from './holder-repository.ts';
import type { PinHasher } from './pin.ts';
import { SiteRepository, type DoorRow, type SiteRow } from './site-repository.ts';
import { scheduleFacts } from './site-service.ts';
import { checkCard } from './holder-service.ts';
import type { AccessRequest, AlarmDraft, AntiPassbackMode, CardFormat, CardholderStatus, CredentialStatus, DecisionSnapshot, DoorDecision, DoorFacts, DoorMode, LevelFacts } from './types.ts';
import { notFound } from './validation.ts';

export interface CardPresented {
  doorId: string;
  cardFormat: CardFormat;
  cardNumber: string;
  /** Typed at the reader; turned into a MAC at once and never stored. */
  pin?: string;
}

export interface DoorRuntimeStatus {
  doorId: string;
  open: boolean;
  unlocked: boolean;
  heldOpenAlarm: boolean;
  forcedOpenAlarm: boolean;
}

export class DoorService {
  readonly #sites: SiteRepository;
  readonly #holders: HolderRepository;
  readonly #events: AccessEventLog;
  readonly #pins: PinHasher;
  readonly #alarms: AlarmSink;
  readonly #clock: Clock;
  readonly #doors = new Map<string, DoorState>();
  /** Time of the first grant within the unlock schedule, per first-person-in door. */
  readonly #firstIn = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(o: { store: Store; events: AccessEventLog; pins: PinHasher; alarms: AlarmSink; clock: Clock }) {
    this.#sites = new SiteRepository(o.store.db);
    this.#holders = new HolderRepository(o.store.db);
    this.#events = o.events;
    this.#pins = o.pins;
    this.#alarms = o.alarms;
    this.#clock = o.clock;
  }

  /** One card (and maybe PIN) at one door: decided, stored, alarmed. */
  async present(card: CardPresented): Promise<DoorDecision & { eventId: string }> {
    checkCard(card.cardFormat, card.cardNumber);
    const now = this.#clock.now();
    const door = await this.#door(card.doorId);
    const site = await this.#site(door.site_id);
    const credential = await this.#holders.credentialByCard(card.cardFormat, card.cardNumber);
    const request: AccessRequest = { doorId: door.id, cardFormat: card.cardFormat, cardNumber: card.cardNumber };
    if (card.pin !== undefined && credential !== undefined) request.pinMac = await this.#pins.mac(credential.id, card.pin);
    const snapshot = await this.#snapshot(site, door, credential?.cardholder_id);
    if (credential !== undefined) {
      snapshot.credential = { id: credential.id, cardholderId: credential.cardholder_id, status: credential.status as CredentialStatus, validFrom: credential.valid_from, validUntil: credential.valid_until, pinHash: credential.pin_hash, duressPinHash: credential.duress_pin_hash };
    }
    const decision = decide(request, snapshot, now);
    const event = await this.#events.append(decision.event);
    this.#raise(decision.alarms, `door:${door.id}`, event);
    if (decision.granted) {
      if (decision.enteredAreaId !== null && decision.event.cardholderId !== null) await this.#events.repo.setPresence(decision.event.cardholderId, site.id, decision.enteredAreaId, now);
      await this.#step(door, site, { kind: 'granted', at: now });
      if (snapshot.door.firstPersonIn && snapshot.door.unlockSchedule !== null && !this.#unlocked(snapshot.door, site, now)) {
        this.#firstIn.set(door.id, now);
      }
    }
    return { ...decision, eventId: event.id };
  }

  /** Door-position switch and REX input reported by the controller. */
  async doorInput(doorId: string, kind: 'opened' | 'closed' | 'rex'): Promise<DoorRuntimeStatus> {
    const door = await this.#door(doorId);
    const site = await this.#site(door.site_id);
    await this.#step(door, site, { kind, at: this.#clock.now() });
    return this.status(door.id);
  }

  /** Checks every open door for held-open; call periodically (start() does). */
  async tick(): Promise<void> {
    for (const [doorId, state] of [...this.#doors]) {
      if (!state.open) continue;
      const door = await this.#sites.door(doorId);
      if (door === undefined) {
        this.#doors.delete(doorId);
        continue;
      }
      await this.#step(door, await this.#site(door.site_id), { kind: 'tick', at: this.#clock.now() });
    }
  }

  start(everyMs = 1000): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      // A failing tick is reported as an alarm, not swallowed.
      this.tick().catch((err: unknown) => this.#alarms.raise({ type: 'access.monitor_failed', severity: 'warning', source: 'access', message: `door monitor failed: ${err instanceof Error ? err.message : String(err)}` }));
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async status(doorId: string): Promise<DoorRuntimeStatus> {
    const door = await this.#door(doorId);
    const site = await this.#site(door.site_id);
    const facts = await this.#doorFacts(door);
    const s = this.#doors.get(doorId) ?? CLOSED_DOOR;
    return { doorId, open: s.open, unlocked: this.#unlocked(facts, site, this.#clock.now()), heldOpenAlarm: s.heldAlarm, forcedOpenAlarm: s.forcedAlarm };
  }

  async listEvents(filter: EventFilter): Promise<AccessEvent[]> {
    return this.#events.list(filter);
  }

  /** Operator reset of anti-passback for a site (everyone's presence forgotten). */
  async resetPresence(siteId: string): Promise<void> {
    await this.#site(siteId);
    await this.#events.repo.clearPresence(siteId);
  }

  async #step(door: DoorRow, site: SiteRow, input: DoorInput): Promise<void> {
    const facts = await this.#doorFacts(door);
    const before = this.#doors.get(door.id) ?? CLOSED_DOOR;
    const step = stepDoor(before, input, { doorId: door.id, siteId: site.id, unlockSeconds: door.unlock_seconds, heldOpenSeconds: door.held_open_seconds, unlocked: this.#unlocked(facts, site, input.at) });
    this.#doors.set(door.id, step.state);
    for (const e of step.events) await this.#events.append(e);
    for (const a of step.raise) this.#alarms.raise({ type: a.type, severity: a.severity, source: `door:${door.id}`, message: a.message, dedupeKey: a.dedupeKey });
    for (const key of step.clear) this.#alarms.clear(key, 'door closed');
  }

  #unlocked(door: DoorFacts, site: SiteRow, now: number): boolean {
    return doorUnlocked(door, site.timezone, site.lockdown === 1, now, this.#firstIn.get(door.id) ?? null);
  }

  #raise(alarms: AlarmDraft[], source: string, event: AccessEvent): void {
    for (const a of alarms) this.#alarms.raise({ type: a.type, severity: a.severity, source, message: a.message, dedupeKey: `${a.type}|${event.id}`, details: { eventId: event.id, cardholderId: event.cardholderId } });
  }

  async #snapshot(site: SiteRow, door: DoorRow, cardholderId: string | undefined): Promise<DecisionSnapshot> {
    const facts = await this.#doorFacts(door);
    const holder = cardholderId === undefined ? undefined : await this.#holders.cardholder(cardholderId);
    const area = door.area_to === null ? undefined : await this.#sites.area(door.area_to);
    const peers = door.interlock_group === null ? [] : await this.#sites.doorsInInterlockGroup(site.id, door.interlock_group);
    return {
      site: { id: site.id, timezone: site.timezone, lockdown: site.lockdown === 1 },
      door: facts,
      credential: undefined,
      cardholder: holder === undefined ? undefined : { id: holder.id, status: holder.status as CardholderStatus, validFrom: holder.valid_from, validUntil: holder.valid_until, lockdownOverride: holder.lockdown_override === 1 },
      levels: holder === undefined ? [] : await this.#levels(holder.id),
      entryAntiPassback: (area?.anti_passback ?? 'off') as AntiPassbackMode,
      presenceAreaId: holder === undefined ? null : await this.#events.repo.presence(holder.id, site.id),
      interlockOpenDoorIds: peers.filter((p) => p.id !== door.id && this.#doors.get(p.id)?.open === true).map((p) => p.id),
    };
  }

  async #levels(cardholderId: string): Promise<LevelFacts[]> {
    const levelIds = await this.#holders.levelIdsOf(cardholderId);
    const links = await this.#holders.levelDoors(levelIds);
    const levels = (await Promise.all(levelIds.map(async (id) => this.#holders.level(id)))).filter((l) => l !== undefined);
    const schedules = new Map((await this.#sites.schedulesById([...new Set(levels.map((l) => l.schedule_id))])).map((s) => [s.id, scheduleFacts(s)]));
    const out: LevelFacts[] = [];
    for (const l of levels) {
      const schedule = schedules.get(l.schedule_id);
      if (schedule !== undefined) out.push({ id: l.id, doorIds: links.filter((k) => k.level_id === l.id).map((k) => k.door_id), schedule });
    }
    return out;
  }

  async #doorFacts(door: DoorRow): Promise<DoorFacts> {
    const unlock = door.unlock_schedule_id === null ? undefined : await this.#sites.schedule(door.unlock_schedule_id);
    return {
      id: door.id, siteId: door.site_id, areaFrom: door.area_from, areaTo: door.area_to, mode: door.mode as DoorMode,
      interlockGroup: door.interlock_group, unlockSchedule: unlock === undefined ? null : scheduleFacts(unlock), firstPersonIn: door.first_person_in === 1,
    };
  }

  async #door(id: string): Promise<DoorRow> {
    const row = await this.#sites.door(id);
    if (row === undefined) throw notFound('door', id);
    return row;
  }
  async #site(id: string): Promise<SiteRow> {
    const row = await this.#sites.site(id);
    if (row === undefined) throw notFound('site', id);
    return row;
  }
}
