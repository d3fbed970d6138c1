// Where the sync listener gets each controller's credentials: the platform publishes the full
// list of entries for a controller whenever it changes; this keeps the current list and the
// deltas of the last versions, so a controller that reports a recent version gets a delta and
// any other gets the full set (design §6: full, then deltas). Versions are time-based and strictly
// increasing, so they keep increasing across a platform restart and a controller never sees a
// new set as a rollback.
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import type { ScheduleFacts } from '../platform/types.ts';
import type { CredentialEntry, CredentialSetPayload, EdgeDoorFacts } from './credential-set.ts';

export type SetChanges = Omit<CredentialSetPayload, 'controllerId' | 'issuedAt'>;

export interface CredentialSetSource {
  /** The changes on top of version `have` (a delta, or a full set), or null when `have` is current. */
  changesSince(controllerId: string, have: number): Promise<SetChanges | null>;
}

/** The door model every set of a controller carries whole (credential-set.ts). */
export interface DoorModel {
  doors: EdgeDoorFacts[];
  schedules: ScheduleFacts[];
}

interface Published {
  version: number;
  model: DoorModel | undefined;
  modelText: string;
  entries: Map<string, CredentialEntry>;
  /** version → the delta that produced it from the version before; oldest first. */
  deltas: Array<{ base: number; version: number; upserts: CredentialEntry[]; removals: string[] }>;
}

const DELTA_HISTORY = 16;
const MAX_CONTROLLERS = 10_000;

export class PublishedCredentialSets implements CredentialSetSource {
  readonly #clock: Clock;
  readonly #byController = new Map<string, Published>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Controllers published so far. */
  controllers(): string[] {
    return [...this.#byController.keys()];
  }

  /**
   * Publishes the complete entry list of a controller, with its door model; returns the new
   * version (or the old one if nothing changed).
   */
  publish(controllerId: string, entries: readonly CredentialEntry[], model?: DoorModel): number {
    const current = this.#byController.get(controllerId);
    if (current === undefined && this.#byController.size >= MAX_CONTROLLERS) throw new VigilError('VIGIL_VALIDATION', `at most ${MAX_CONTROLLERS} controllers`);
    const next = new Map(entries.map((e) => [e.key, e]));
    const upserts: CredentialEntry[] = [];
    const removals: string[] = [];
    for (const [key, entry] of next) {
      const before = current?.entries.get(key);
      if (before === undefined || JSON.stringify(before) !== JSON.stringify(entry)) upserts.push(entry);
    }
    for (const key of current?.entries.keys() ?? []) if (!next.has(key)) removals.push(key);
    const modelText = JSON.stringify(model ?? null);
    if (current !== undefined && upserts.length === 0 && removals.length === 0 && modelText === current.modelText) return current.version;
    const version = Math.max((current?.version ?? 0) + 1, this.#clock.now());
    const deltas = current === undefined ? [] : [...current.deltas, { base: current.version, version, upserts, removals }].slice(-DELTA_HISTORY);
    this.#byController.set(controllerId, { version, model, modelText, entries: next, deltas });
    return version;
  }

  async changesSince(controllerId: string, have: number): Promise<SetChanges | null> {
    const p = this.#byController.get(controllerId);
    if (p === undefined || have === p.version) return null;
    const from = p.deltas.findIndex((d) => d.base === have);
    const model = p.model === undefined ? {} : { doors: p.model.doors, schedules: p.model.schedules };
    if (have === 0 || from < 0) return { version: p.version, baseVersion: null, upserts: [...p.entries.values()], removals: [], ...model };
    const upserts = new Map<string, CredentialEntry>();
    const removals = new Set<string>();
    for (const d of p.deltas.slice(from)) {
      for (const key of d.removals) {
        upserts.delete(key);
        removals.add(key);
      }
      for (const e of d.upserts) {
        removals.delete(e.key);
        upserts.set(e.key, e);
      }
    }
    return { version: p.version, baseVersion: have, upserts: [...upserts.values()], removals: [...removals], ...model };
  }
}
