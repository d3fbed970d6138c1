// From the platform's model to one controller's credential set (issue #6), pure: the doors of
// the controller, the holders and credentials, the holders' access levels (doors × schedules
// with holidays) → credential entries and the door model. The edge then decides exactly as
// decision-engine.ts does for a card read (proved by credential-set-compiler.test.ts):
//
// - an inactive credential or holder, or a card number without a key (card-key.ts), is not
//   published: unknown at the edge, refused online (ACS-5.4.2.3: default deny offline too);
// - validity: the credential's and the holder's windows intersected, end exclusive;
// - doors: those of the controller in any of the holder's levels, each with the schedules of
//   those levels (open while any is active, in the door's site time zone);
// - door mode (card-and-PIN needs a PIN a card read lacks; locked refuses), site lockdown and
//   the holder's lockdown override travel in the door model and the entry.
//
// Not enforced at the edge yet, so not compiled: anti-passback (needs presence across
// controllers) and interlock (needs door-position inputs at the controller); the platform
// still applies them online.
//
// PINs (issue #6): the entry carries the credential's edge verifiers (src/access/edge-pin.ts),
// never the platform's MACs; a credential whose PIN or duress PIN has no edge verifier (set
// before migration 012) is marked, and card-and-PIN doors refuse it at the edge with a reason
// of its own.
import { credentialKey } from '../card-key.ts';
import type { CredentialEntry, EdgeDoorFacts } from '../controller/credential-set.ts';
import type { DoorModel } from '../controller/sync-source.ts';
import type { CardholderFacts, CredentialFacts, DoorFacts, LevelFacts, ScheduleFacts } from './types.ts';

export interface ControllerDoor {
  door: DoorFacts;
  site: { id: string; timezone: string; lockdown: boolean };
}

export interface PublishedCredential extends CredentialFacts {
  cardFormat: string;
  cardNumber: string;
  /** The opened edge verifiers (null: no such PIN, or one set before edge verifiers). */
  edgePinVerifier: string | null;
  edgeDuressVerifier: string | null;
}

/** What an entry says of the credential's PINs. */
function pinFields(c: PublishedCredential): Pick<CredentialEntry, 'pinVerifier' | 'duressVerifier' | 'pinNotAtEdge'> {
  if ((c.pinHash !== null && c.edgePinVerifier === null) || (c.duressPinHash !== null && c.edgeDuressVerifier === null)) return { pinNotAtEdge: true };
  return {
    ...(c.pinHash !== null && c.edgePinVerifier !== null ? { pinVerifier: c.edgePinVerifier } : {}),
    ...(c.duressPinHash !== null && c.edgeDuressVerifier !== null ? { duressVerifier: c.edgeDuressVerifier } : {}),
  };
}

export interface CompileInput {
  doors: readonly ControllerDoor[];
  holders: ReadonlyMap<string, CardholderFacts>;
  credentials: readonly PublishedCredential[];
  /** Access levels of each holder (all of them; levels on other doors are ignored). */
  levelsOf: ReadonlyMap<string, readonly LevelFacts[]>;
}

/** Far enough in the future to stand for "no end" in JSON (which has no Infinity). */
export const NO_END = Number.MAX_SAFE_INTEGER;

export function compileCredentialSet(input: CompileInput): { entries: CredentialEntry[]; model: DoorModel } {
  const doorIds = input.doors.map((d) => d.door.id);
  const schedules = new Map<string, ScheduleFacts>();
  const byKey = new Map<string, CredentialEntry>();
  const ambiguous = new Set<string>();
  for (const c of input.credentials) {
    if (c.status !== 'active') continue;
    const holder = input.holders.get(c.cardholderId);
    if (holder === undefined || holder.status !== 'active') continue;
    const key = credentialKey(c.cardFormat, c.cardNumber);
    if (key === null) continue;
    // Two numbers of one card (leading zeros): which one a read means is not knowable; neither opens.
    if (byKey.has(key) || ambiguous.has(key)) {
      byKey.delete(key);
      ambiguous.add(key);
      continue;
    }
    const levels = input.levelsOf.get(holder.id) ?? [];
    const doors: string[] = [];
    const perDoor: Record<string, string[]> = {};
    for (const doorId of doorIds) {
      const through = levels.filter((l) => l.doorIds.includes(doorId));
      if (through.length === 0) continue;
      doors.push(doorId);
      perDoor[doorId] = [...new Set(through.map((l) => l.schedule.id))].sort();
      for (const l of through) schedules.set(l.schedule.id, l.schedule);
    }
    if (doors.length === 0 && !holder.lockdownOverride) continue;
    const notBefore = Math.max(c.validFrom ?? 0, holder.validFrom ?? 0);
    const notAfter = Math.min(c.validUntil ?? NO_END, holder.validUntil ?? NO_END);
    if (notAfter <= notBefore) continue;
    byKey.set(key, { key, holderId: holder.id, doors, notBefore, notAfter, schedules: perDoor, ...(holder.lockdownOverride ? { lockdownOverride: true } : {}), ...pinFields(c) });
  }
  const edgeDoors: EdgeDoorFacts[] = input.doors.map((d) => ({ id: d.door.id, mode: d.door.mode, timezone: d.site.timezone, lockdown: d.site.lockdown }));
  const entries = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { entries, model: { doors: edgeDoors, schedules: [...schedules.values()].sort((a, b) => (a.id < b.id ? -1 : 1)) } };
}
