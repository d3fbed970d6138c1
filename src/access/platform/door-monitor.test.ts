// Door monitor: forced-open and held-open alarms, and the first-person-in unlock schedule,
// with explicit times.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSED_DOOR, doorUnlocked, stepDoor, type DoorInput, type DoorState, type DoorStep, type DoorTiming } from './door-monitor.ts';
import type { DoorFacts } from './types.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const TIMING: DoorTiming = { doorId: 'door-a', siteId: 'site-1', unlockSeconds: 5, heldOpenSeconds: 30, unlocked: false };

function run(inputs: DoorInput[], timing: DoorTiming = TIMING): { state: DoorState; steps: DoorStep[] } {
  let state = CLOSED_DOOR;
  const steps: DoorStep[] = [];
  for (const i of inputs) {
    const s = stepDoor(state, i, timing);
    steps.push(s);
    state = s.state;
  }
  return { state, steps };
}
const raised = (steps: DoorStep[]): string[] => steps.flatMap((s) => s.raise.map((r) => r.type));

describe('door monitor: forced open', () => {
  test('opening without a grant or REX raises forced-open (critical) and an alarm event', () => {
    const { steps } = run([{ kind: 'opened', at: T0 }]);
    assert.deepEqual(raised(steps), ['access.door_forced_open']);
    assert.equal(steps[0]?.raise[0]?.severity, 'critical');
    assert.deepEqual(steps[0]?.events.map((e) => [e.type, e.outcome, e.ts]), [['door.forced_open', 'alarm', '2026-11-23T09:00:00.000Z']]);
  });
  test('opening within the unlock time after a grant is fine', () => {
    assert.deepEqual(raised(run([{ kind: 'granted', at: T0 }, { kind: 'opened', at: T0 + 4000 }]).steps), []);
  });
  test('opening after the unlock time has run out is forced', () => {
    assert.deepEqual(raised(run([{ kind: 'granted', at: T0 }, { kind: 'opened', at: T0 + 5001 }]).steps), ['access.door_forced_open']);
  });
  test('REX authorises one opening; the second opening is forced', () => {
    const { steps } = run([{ kind: 'rex', at: T0 }, { kind: 'opened', at: T0 + 1000 }, { kind: 'closed', at: T0 + 2000 }, { kind: 'opened', at: T0 + 3000 }]);
    assert.deepEqual(raised(steps), ['access.door_forced_open']);
    assert.equal(steps[3]?.raise.length, 1);
  });
  test('a door standing unlocked by schedule is never forced', () => {
    assert.deepEqual(raised(run([{ kind: 'opened', at: T0 }], { ...TIMING, unlocked: true }).steps), []);
  });
  test('closing clears the forced-open alarm by its key', () => {
    const { steps, state } = run([{ kind: 'opened', at: T0 }, { kind: 'closed', at: T0 + 1000 }]);
    assert.deepEqual(steps[1]?.clear, ['access.door_forced_open|door:door-a']);
    assert.equal(state.open, false);
  });
});

describe('door monitor: held open', () => {
  test('open longer than N s raises held-open once; closing clears it', () => {
    const { steps } = run([
      { kind: 'granted', at: T0 },
      { kind: 'opened', at: T0 + 1000 },
      { kind: 'tick', at: T0 + 31_000 }, // exactly 30 s: not yet
      { kind: 'tick', at: T0 + 31_001 },
      { kind: 'tick', at: T0 + 60_000 },
      { kind: 'closed', at: T0 + 61_000 },
    ]);
    assert.deepEqual(steps.map((s) => s.raise.map((r) => r.type)), [[], [], [], ['access.door_held_open'], [], []]);
    assert.deepEqual(steps[5]?.clear, ['access.door_held_open|door:door-a']);
  });
  test('not held open when the door stands unlocked by schedule', () => {
    const t = { ...TIMING, unlocked: true };
    assert.deepEqual(raised(run([{ kind: 'opened', at: T0 }, { kind: 'tick', at: T0 + 600_000 }], t).steps), []);
  });
  test('a closed door never raises held-open', () => {
    assert.deepEqual(raised(run([{ kind: 'tick', at: T0 + 600_000 }]).steps), []);
  });
});

describe('first-person-in unlock schedule', () => {
  const door: DoorFacts = {
    id: 'door-a',
    siteId: 'site-1',
    areaFrom: null,
    areaTo: null,
    mode: 'card',
    interlockGroup: null,
    unlockSchedule: { id: 'u', intervals: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '17:00' }], holidays: [] },
    firstPersonIn: true,
  };
  const at = (hhmmUtc: string, day = '2026-11-23'): number => Date.parse(`${day}T${hhmmUtc}:00Z`);
  test('in the schedule but nobody in yet → stays locked', () => {
    assert.equal(doorUnlocked(door, 'UTC', false, at('09:00'), null), false);
  });
  test('after the first grant in the schedule → unlocked until the schedule ends', () => {
    assert.equal(doorUnlocked(door, 'UTC', false, at('09:00'), at('08:30')), true);
    assert.equal(doorUnlocked(door, 'UTC', false, at('17:00'), at('08:30')), false);
  });
  test('a grant before the schedule (07:30) does not count; nor yesterday\'s', () => {
    assert.equal(doorUnlocked(door, 'UTC', false, at('09:00'), at('07:30')), false);
    assert.equal(doorUnlocked(door, 'UTC', false, at('09:00', '2026-11-24'), at('08:30')), false);
  });
  test('without first-person-in the schedule alone unlocks; lockdown always locks', () => {
    assert.equal(doorUnlocked({ ...door, firstPersonIn: false }, 'UTC', false, at('09:00'), null), true);
    assert.equal(doorUnlocked({ ...door, firstPersonIn: false }, 'UTC', true, at('09:00'), null), false);
  });
});
