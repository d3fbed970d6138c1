// Door monitoring, pure: the door-position switch reports open/closed; a grant or a
// request-to-exit (REX) authorises one opening for the unlock time. Opening without either is a
// forced-open alarm; staying open longer than the held-open time is a held-open alarm. A door
// standing unlocked by its schedule raises neither.
import { isoTime } from '../../core/clock.ts';
import { localTime, scheduleActive } from './schedule.ts';
import type { AccessEventDraft, AlarmDraft, DoorFacts } from './types.ts';

export interface DoorState {
  open: boolean;
  openedAt: number | null;
  /** An opening before this time is authorised (grant or REX). */
  authorisedUntil: number;
  heldAlarm: boolean;
  forcedAlarm: boolean;
}

export const CLOSED_DOOR: DoorState = { open: false, openedAt: null, authorisedUntil: 0, heldAlarm: false, forcedAlarm: false };

export type DoorInput =
  | { kind: 'granted'; at: number }
  | { kind: 'rex'; at: number }
  | { kind: 'opened'; at: number }
  | { kind: 'closed'; at: number }
  | { kind: 'tick'; at: number };

export interface DoorTiming {
  doorId: string;
  siteId: string;
  unlockSeconds: number;
  heldOpenSeconds: number;
  /** True while the door stands unlocked (schedule): openings are expected then. */
  unlocked: boolean;
}

export interface DoorStep {
  state: DoorState;
  events: AccessEventDraft[];
  raise: Array<AlarmDraft & { dedupeKey: string }>;
  clear: string[];
}

export function heldOpenKey(doorId: string): string {
  return `access.door_held_open|door:${doorId}`;
}
export function forcedOpenKey(doorId: string): string {
  return `access.door_forced_open|door:${doorId}`;
}

function doorEvent(t: DoorTiming, at: number, type: string, outcome: AccessEventDraft['outcome'], reason: string): AccessEventDraft {
  return { ts: isoTime(at), category: 'door', type, outcome, reason, source: `door:${t.doorId}`, siteId: t.siteId, doorId: t.doorId, cardholderId: null, credentialId: null, details: {} };
}

export function stepDoor(state: DoorState, input: DoorInput, t: DoorTiming): DoorStep {
  const step: DoorStep = { state: { ...state }, events: [], raise: [], clear: [] };
  const s = step.state;
  switch (input.kind) {
    case 'granted':
    case 'rex':
      s.authorisedUntil = Math.max(s.authorisedUntil, input.at + t.unlockSeconds * 1000);
      if (input.kind === 'rex') step.events.push(doorEvent(t, input.at, 'door.rex', 'info', 'rex'));
      break;
    case 'opened':
      if (s.open) break;
      s.open = true;
      s.openedAt = input.at;
      if (!t.unlocked && input.at > s.authorisedUntil) {
        s.forcedAlarm = true;
        step.events.push(doorEvent(t, input.at, 'door.forced_open', 'alarm', 'forced_open'));
        step.raise.push({ type: 'access.door_forced_open', severity: 'critical', message: `door ${t.doorId} forced open`, dedupeKey: forcedOpenKey(t.doorId) });
      } else {
        step.events.push(doorEvent(t, input.at, 'door.opened', 'info', t.unlocked ? 'unlocked' : 'authorised'));
      }
      s.authorisedUntil = 0; // one authorisation, one opening
      break;
    case 'closed':
      if (!s.open) break;
      step.events.push(doorEvent(t, input.at, 'door.closed', 'info', 'closed'));
      if (s.heldAlarm) step.clear.push(heldOpenKey(t.doorId));
      if (s.forcedAlarm) step.clear.push(forcedOpenKey(t.doorId));
      step.state = { ...CLOSED_DOOR, authorisedUntil: s.authorisedUntil };
      break;
    case 'tick':
      if (s.open && !s.heldAlarm && !t.unlocked && s.openedAt !== null && input.at - s.openedAt > t.heldOpenSeconds * 1000) {
        s.heldAlarm = true;
        step.events.push(doorEvent(t, input.at, 'door.held_open', 'alarm', 'held_open'));
        step.raise.push({ type: 'access.door_held_open', severity: 'warning', message: `door ${t.doorId} held open longer than ${t.heldOpenSeconds} s`, dedupeKey: heldOpenKey(t.doorId) });
      }
      break;
  }
  return step;
}

/**
 * Does the door stand unlocked at `now`? Only in its unlock schedule, never during a lockdown,
 * and with first-person-in only once somebody was granted through it on the same local day
 * within the schedule (`firstInAt`: time of that grant, or null).
 */
export function doorUnlocked(door: DoorFacts, timezone: string, lockdown: boolean, now: number, firstInAt: number | null): boolean {
  if (lockdown || door.mode === 'locked' || door.unlockSchedule === null) return false;
  if (!scheduleActive(door.unlockSchedule, now, timezone)) return false;
  if (!door.firstPersonIn) return true;
  return firstInAt !== null && firstInAt <= now && sameLocalDay(firstInAt, now, timezone) && scheduleActive(door.unlockSchedule, firstInAt, timezone);
}

function sameLocalDay(a: number, b: number, timezone: string): boolean {
  return localTime(a, timezone).date === localTime(b, timezone).date;
}
