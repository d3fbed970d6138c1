// Publishes every controller's credential set (issue #6, design §6): at start, and after each
// change a set depends on (holders, credentials, levels, schedules, doors, lockdown, door →
// controller assignment). Changes are coalesced: the first one arms a short timer, the ones
// that follow within it ride along, so a CSV import of thousands of rows is one publication and
// a lockdown reaches the sync listener within `debounceMs`. One publication runs at a time;
// changes during it trigger exactly one more. The sync listener signs each set it serves
// (credential-set.ts) and turns consecutive publications into deltas (sync-source.ts).
import type { AlarmSink } from '../../alarms/types.ts';
import type { Store } from '../../store/database.ts';
import type { CredentialEntry } from '../controller/credential-set.ts';
import type { DoorModel } from '../controller/sync-source.ts';
import { compileCredentialSet, type ControllerDoor, type PublishedCredential } from './credential-set-compiler.ts';
import { HolderRepository } from './holder-repository.ts';
import { MAX_CARDHOLDERS } from './holder-service.ts';
import type { PinHasher } from './pin.ts';
import { SiteRepository } from './site-repository.ts';
import { MAX_CONTROLLERS, MAX_DOORS_PER_CONTROLLER, scheduleFacts } from './site-service.ts';
import type { CardholderStatus, CredentialStatus, DoorMode, LevelFacts } from './types.ts';

export interface CredentialSetSink {
  publish(controllerId: string, entries: readonly CredentialEntry[], model?: DoorModel): number;
  controllers(): string[];
}

export interface PublishResult {
  controllerId: string;
  version: number;
  entries: number;
  /** Entries whose PIN the edge cannot check (set before edge verifiers): the admin sets them again. */
  pinsNotAtEdge: number;
}

export class CredentialSetPublisher {
  readonly #sites: SiteRepository;
  readonly #holders: HolderRepository;
  readonly #sink: CredentialSetSink;
  readonly #alarms: AlarmSink;
  readonly #debounceMs: number;
  readonly #onPublished: (results: PublishResult[]) => void;
  readonly #pins: PinHasher;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #closed = false;

  constructor(o: { store: Store; sink: CredentialSetSink; alarms: AlarmSink; pins: PinHasher; debounceMs?: number; onPublished?: (results: PublishResult[]) => void }) {
    this.#pins = o.pins;
    this.#sites = new SiteRepository(o.store.db);
    this.#holders = new HolderRepository(o.store.db);
    this.#sink = o.sink;
    this.#alarms = o.alarms;
    this.#debounceMs = o.debounceMs ?? 250;
    this.#onPublished = o.onPublished ?? (() => {});
  }

  /** A change a set may depend on: publish soon (coalesced). */
  changed(): void {
    this.#dirty = true;
    if (this.#closed || this.#timer !== undefined || this.#running !== undefined) return;
    this.#timer = setTimeout(() => this.#flush(), this.#debounceMs);
    this.#timer.unref();
  }

  /** Waits for a pending or running publication (tests, shutdown). */
  async settled(): Promise<void> {
    for (let i = 0; i < 100 && (this.#timer !== undefined || this.#running !== undefined); i++) {
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#flush();
      }
      await this.#running;
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#closed || !this.#dirty) return;
    this.#dirty = false;
    this.#running = this.publishAll()
      .then((results) => {
        this.#onPublished(results);
        this.#alarms.clear('access.credential_sets_failed', 'credential sets published again');
      })
      .catch((err: unknown) => {
        // Controllers keep the last set they verified; the operator learns the new one is missing.
        this.#alarms.raise({ type: 'access.credential_sets_failed', severity: 'warning', source: 'access', message: `credential sets not published: ${err instanceof Error ? err.message : String(err)}`, dedupeKey: 'access.credential_sets_failed' });
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#dirty) this.changed();
      });
  }

  /** Compiles and publishes the set of every controller with doors, or that had doors before. */
  async publishAll(): Promise<PublishResult[]> {
    const ids = [...new Set([...(await this.#sites.assignedControllers(MAX_CONTROLLERS)), ...this.#sink.controllers()])].sort();
    const results: PublishResult[] = [];
    for (const controllerId of ids) {
      const { entries, model } = await this.compile(controllerId);
      results.push({ controllerId, version: this.#sink.publish(controllerId, entries, model), entries: entries.length, pinsNotAtEdge: entries.filter((e) => e.pinNotAtEdge === true).length });
    }
    return results;
  }

  /** One controller's entries and door model, from the database. */
  async compile(controllerId: string): Promise<{ entries: CredentialEntry[]; model: DoorModel }> {
    const doorRows = await this.#sites.doorsOfController(controllerId, MAX_DOORS_PER_CONTROLLER);
    const sites = new Map<string, { id: string; timezone: string; lockdown: boolean }>();
    const doors: ControllerDoor[] = [];
    for (const d of doorRows) {
      let site = sites.get(d.site_id);
      if (site === undefined) {
        const row = await this.#sites.site(d.site_id);
        if (row === undefined) continue;
        site = { id: row.id, timezone: row.timezone, lockdown: row.lockdown === 1 };
        sites.set(row.id, site);
      }
      // Unlock schedules, interlock and areas do not enter the card decision at the edge.
      doors.push({ site, door: { id: d.id, siteId: d.site_id, areaFrom: d.area_from, areaTo: d.area_to, mode: d.mode as DoorMode, interlockGroup: d.interlock_group, unlockSchedule: null, firstPersonIn: d.first_person_in === 1 } });
    }
    const links = await this.#holders.levelDoorsOfDoors(doors.map((d) => d.door.id));
    const levelRows = await this.#holders.levelsByIds([...new Set(links.map((l) => l.level_id))]);
    const schedules = new Map((await this.#sites.schedulesById([...new Set(levelRows.map((l) => l.schedule_id))])).map((s) => [s.id, scheduleFacts(s)]));
    const levels = new Map<string, LevelFacts>();
    for (const l of levelRows) {
      const schedule = schedules.get(l.schedule_id);
      if (schedule !== undefined) levels.set(l.id, { id: l.id, schedule, doorIds: links.filter((k) => k.level_id === l.id).map((k) => k.door_id) });
    }
    const holderLinks = await this.#holders.holderLevelsOfLevels([...levels.keys()]);
    const holderIds = [...new Set([...holderLinks.map((h) => h.cardholder_id), ...(await this.#holders.lockdownOverrideHolderIds(MAX_CARDHOLDERS))])];
    const holders = new Map(
      (await this.#holders.cardholdersByIds(holderIds)).map((h) => [h.id, { id: h.id, status: h.status as CardholderStatus, validFrom: h.valid_from, validUntil: h.valid_until, lockdownOverride: h.lockdown_override === 1 }]),
    );
    const levelsOf = new Map<string, LevelFacts[]>();
    for (const link of holderLinks) {
      const level = levels.get(link.level_id);
      if (level === undefined) continue;
      const list = levelsOf.get(link.cardholder_id) ?? [];
      list.push(level);
      levelsOf.set(link.cardholder_id, list);
    }
    const credentials: PublishedCredential[] = [];
    for (const c of await this.#holders.credentialsOfHolders([...holders.keys()])) {
      // Only active credentials are published; the others' verifiers are not even opened.
      const open = c.status === 'active';
      credentials.push({
        id: c.id, cardholderId: c.cardholder_id, status: c.status as CredentialStatus, validFrom: c.valid_from, validUntil: c.valid_until,
        pinHash: c.pin_hash, duressPinHash: c.duress_pin_hash, cardFormat: c.card_format, cardNumber: c.card_number,
        edgePinVerifier: open && c.pin_edge_verifier !== null ? await this.#pins.openEdgeVerifier(c.id, 'pin', c.pin_edge_verifier) : null,
        edgeDuressVerifier: open && c.duress_pin_edge_verifier !== null ? await this.#pins.openEdgeVerifier(c.id, 'duress', c.duress_pin_edge_verifier) : null,
      });
    }
    return compileCredentialSet({ doors, holders, credentials, levelsOf });
  }
}
