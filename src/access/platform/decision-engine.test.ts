// Each rule of the door decision with explicit times (no wall clock).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decide } from './decision-engine.ts';
import { pinMac } from './pin.ts';
import type { AccessRequest, DecisionSnapshot, ScheduleFacts } from './types.ts';

const KEY = randomBytes(32);
/** Monday 2026-11-23, 10:00 in Berlin (UTC+1 in November). */
const MON_10 = Date.parse('2026-11-23T09:00:00Z');
const MON_20 = Date.parse('2026-11-23T19:00:00Z');
const SAT_10 = Date.parse('2026-11-28T09:00:00Z');
const XMAS_10 = Date.parse('2026-12-25T09:00:00Z'); // a Friday, and a holiday
const XMAS_12 = Date.parse('2026-12-25T11:30:00Z');

const OFFICE: ScheduleFacts = {
  id: 'sch-office',
  intervals: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }],
  holidays: [{ date: '2026-12-25', name: 'Christmas', intervals: [{ from: '12:00', to: '14:00' }] }],
};

function snapshot(over: Partial<DecisionSnapshot> = {}): DecisionSnapshot {
  return {
    site: { id: 'site-1', timezone: 'Europe/Berlin', lockdown: false },
    door: { id: 'door-a', siteId: 'site-1', areaFrom: 'outside', areaTo: 'lobby', mode: 'card', interlockGroup: null, unlockSchedule: null, firstPersonIn: false },
    credential: { id: 'cred-1', cardholderId: 'holder-1', status: 'active', validFrom: null, validUntil: null, pinHash: pinMac(KEY, 'cred-1', '1234'), duressPinHash: pinMac(KEY, 'cred-1', '9999') },
    cardholder: { id: 'holder-1', status: 'active', validFrom: null, validUntil: null, lockdownOverride: false },
    levels: [{ id: 'lvl-1', doorIds: ['door-a', 'door-b'], schedule: OFFICE }],
    entryAntiPassback: 'off',
    presenceAreaId: null,
    interlockOpenDoorIds: [],
    ...over,
  };
}
const CARD: AccessRequest = { doorId: 'door-a', cardFormat: 'h10301', cardNumber: '70501' };
const withPin = (pin: string): AccessRequest => ({ ...CARD, pinMac: pinMac(KEY, 'cred-1', pin) });

describe('decide: default deny and credentials', () => {
  test('a valid card in schedule is granted, with an ISO 8601 access event', () => {
    const d = decide(CARD, snapshot(), MON_10);
    assert.equal(d.granted, true);
    assert.equal(d.reason, 'granted');
    assert.equal(d.enteredAreaId, 'lobby');
    assert.deepEqual(
      { ts: d.event.ts, category: d.event.category, type: d.event.type, outcome: d.event.outcome, source: d.event.source },
      { ts: '2026-11-23T09:00:00.000Z', category: 'access', type: 'access.granted', outcome: 'granted', source: 'door:door-a' },
    );
  });
  test('unknown card → denied', () => {
    const d = decide(CARD, snapshot({ credential: undefined, cardholder: undefined }), MON_10);
    assert.deepEqual([d.granted, d.reason, d.event.type], [false, 'unknown_credential', 'access.denied']);
  });
  test('a credential of another holder than the snapshot holder → denied', () => {
    const d = decide(CARD, snapshot({ cardholder: { id: 'someone-else', status: 'active', validFrom: null, validUntil: null, lockdownOverride: true } }), MON_10);
    assert.equal(d.reason, 'unknown_credential');
  });
  test('suspended, lost and revoked credentials → denied', () => {
    const s = snapshot();
    if (s.credential === undefined) throw new Error('fixture');
    assert.equal(decide(CARD, { ...s, credential: { ...s.credential, status: 'suspended' } }, MON_10).reason, 'credential_suspended');
    assert.equal(decide(CARD, { ...s, credential: { ...s.credential, status: 'lost' } }, MON_10).reason, 'credential_revoked');
    assert.equal(decide(CARD, { ...s, credential: { ...s.credential, status: 'revoked' } }, MON_10).reason, 'credential_revoked');
  });
  test('suspended cardholder → denied', () => {
    const d = decide(CARD, snapshot({ cardholder: { id: 'holder-1', status: 'suspended', validFrom: null, validUntil: null, lockdownOverride: false } }), MON_10);
    assert.equal(d.reason, 'cardholder_suspended');
  });
  test('no level for the door → denied, even with levels for other doors', () => {
    assert.equal(decide(CARD, snapshot({ levels: [{ id: 'l', doorIds: ['door-z'], schedule: OFFICE }] }), MON_10).reason, 'no_access_level');
    assert.equal(decide(CARD, snapshot({ levels: [] }), MON_10).reason, 'no_access_level');
  });
  test('a request for another door than the snapshot is refused', () => {
    assert.equal(decide({ ...CARD, doorId: 'door-b' }, snapshot(), MON_10).granted, false);
  });
  test('door mode locked → denied', () => {
    const s = snapshot();
    assert.equal(decide(CARD, { ...s, door: { ...s.door, mode: 'locked' } }, MON_10).reason, 'door_locked');
  });
});

describe('decide: validity windows', () => {
  const from = Date.parse('2026-11-23T08:00:00Z');
  const until = Date.parse('2026-11-23T10:00:00Z');
  test('credential: before from → not yet valid; at until → expired; inside → granted', () => {
    const s = snapshot();
    if (s.credential === undefined) throw new Error('fixture');
    const c = { ...s, credential: { ...s.credential, validFrom: from, validUntil: until } };
    assert.equal(decide(CARD, c, from - 1).reason, 'credential_not_yet_valid');
    assert.equal(decide(CARD, c, MON_10).reason, 'granted');
    assert.equal(decide(CARD, c, until).reason, 'credential_expired');
  });
  test('cardholder: before from → not yet valid; after until → expired', () => {
    const holder = { id: 'holder-1', status: 'active' as const, validFrom: from, validUntil: until, lockdownOverride: false };
    assert.equal(decide(CARD, snapshot({ cardholder: holder }), from - 60_000).reason, 'cardholder_not_yet_valid');
    assert.equal(decide(CARD, snapshot({ cardholder: holder }), until + 1).reason, 'cardholder_expired');
    assert.equal(decide(CARD, snapshot({ cardholder: holder }), until - 1).reason, 'granted');
  });
});

describe('decide: schedules and holidays (site time zone)', () => {
  test('Monday 10:00 Berlin in; Monday 20:00 and Saturday out', () => {
    assert.equal(decide(CARD, snapshot(), MON_10).reason, 'granted');
    assert.equal(decide(CARD, snapshot(), MON_20).reason, 'outside_schedule');
    assert.equal(decide(CARD, snapshot(), SAT_10).reason, 'outside_schedule');
  });
  test('the time zone matters: 17:30 UTC is 18:30 in Berlin (out) and 17:30 in London (in)', () => {
    const t = Date.parse('2026-11-23T17:30:00Z');
    assert.equal(decide(CARD, snapshot(), t).reason, 'outside_schedule');
    assert.equal(decide(CARD, snapshot({ site: { id: 'site-1', timezone: 'Europe/London', lockdown: false } }), t).reason, 'granted');
  });
  test('a holiday replaces the weekday: Christmas Friday 10:00 out, 12:30 in (holiday interval)', () => {
    assert.equal(decide(CARD, snapshot(), XMAS_10).reason, 'outside_schedule');
    assert.equal(decide(CARD, snapshot(), XMAS_12).reason, 'granted');
  });
  test('interval end is exclusive, start inclusive', () => {
    assert.equal(decide(CARD, snapshot(), Date.parse('2026-11-23T07:00:00Z')).reason, 'granted'); // 08:00 Berlin
    assert.equal(decide(CARD, snapshot(), Date.parse('2026-11-23T17:00:00Z')).reason, 'outside_schedule'); // 18:00 Berlin
  });
  test('any one of several levels in schedule is enough', () => {
    const night: ScheduleFacts = { id: 'night', intervals: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '18:00', to: '24:00' }], holidays: [] };
    const levels = [{ id: 'day', doorIds: ['door-a'], schedule: OFFICE }, { id: 'night', doorIds: ['door-a'], schedule: night }];
    assert.equal(decide(CARD, snapshot({ levels }), MON_20).reason, 'granted');
  });
});

describe('decide: PIN and duress', () => {
  const pinDoor = (): DecisionSnapshot => {
    const s = snapshot();
    return { ...s, door: { ...s.door, mode: 'card_and_pin' } };
  };
  test('card-and-PIN door: no PIN → pin_required; wrong PIN → pin_invalid; right PIN → granted', () => {
    assert.equal(decide(CARD, pinDoor(), MON_10).reason, 'pin_required');
    assert.equal(decide(withPin('1235'), pinDoor(), MON_10).reason, 'pin_invalid');
    assert.equal(decide(withPin('1234'), pinDoor(), MON_10).reason, 'granted');
  });
  test('a PIN MAC made for another credential does not open', () => {
    assert.equal(decide({ ...CARD, pinMac: pinMac(KEY, 'cred-2', '1234') }, pinDoor(), MON_10).reason, 'pin_invalid');
  });
  test('duress PIN → granted (reader sees a normal grant) + critical duress alarm', () => {
    const d = decide(withPin('9999'), pinDoor(), MON_10);
    assert.equal(d.granted, true);
    assert.equal(d.reason, 'granted_duress');
    assert.equal(d.event.type, 'access.granted');
    assert.deepEqual(d.alarms.map((a) => [a.type, a.severity]), [['access.duress', 'critical']]);
  });
  test('a normal grant raises no alarm, and the event never carries the PIN or its MAC', () => {
    const d = decide(withPin('1234'), pinDoor(), MON_10);
    assert.deepEqual(d.alarms, []);
    assert.ok(!JSON.stringify(d.event).includes('1234'));
    assert.ok(!JSON.stringify(d.event).includes('hmac'));
  });
  test('duress outside schedule is still alarmed although denied', () => {
    const d = decide(withPin('9999'), pinDoor(), MON_20);
    assert.equal(d.granted, false);
    assert.equal(d.alarms[0]?.type, 'access.duress');
  });
});

describe('decide: anti-passback', () => {
  test('hard: holder already in the lobby cannot enter it again (passback) → denied', () => {
    const d = decide(CARD, snapshot({ entryAntiPassback: 'hard', presenceAreaId: 'lobby' }), MON_10);
    assert.deepEqual([d.granted, d.reason, d.alarms.length], [false, 'anti_passback', 0]);
  });
  test('hard: holder recorded in another area than the one this door leaves → denied', () => {
    assert.equal(decide(CARD, snapshot({ entryAntiPassback: 'hard', presenceAreaId: 'lab' }), MON_10).reason, 'anti_passback');
  });
  test('hard: holder coming from the right area, or unknown presence → granted into the area', () => {
    const d = decide(CARD, snapshot({ entryAntiPassback: 'hard', presenceAreaId: 'outside' }), MON_10);
    assert.deepEqual([d.granted, d.enteredAreaId], [true, 'lobby']);
    assert.equal(decide(CARD, snapshot({ entryAntiPassback: 'hard', presenceAreaId: null }), MON_10).granted, true);
  });
  test('soft: violation is granted with a warning alarm and its own reason', () => {
    const d = decide(CARD, snapshot({ entryAntiPassback: 'soft', presenceAreaId: 'lobby' }), MON_10);
    assert.deepEqual([d.granted, d.reason], [true, 'granted_anti_passback_soft']);
    assert.deepEqual(d.alarms.map((a) => a.type), ['access.anti_passback']);
  });
  test('off: no check', () => {
    assert.equal(decide(CARD, snapshot({ entryAntiPassback: 'off', presenceAreaId: 'lobby' }), MON_10).reason, 'granted');
  });
});

describe('decide: interlock (mantrap)', () => {
  const mantrap = (open: string[]): DecisionSnapshot => {
    const s = snapshot({ interlockOpenDoorIds: open });
    return { ...s, door: { ...s.door, interlockGroup: 'trap-1' } };
  };
  test('door A refused while door B of the group is open', () => {
    assert.equal(decide(CARD, mantrap(['door-b']), MON_10).reason, 'interlock');
  });
  test('granted when the other doors are shut', () => {
    assert.equal(decide(CARD, mantrap([]), MON_10).reason, 'granted');
  });
  test('its own open state does not block itself', () => {
    assert.equal(decide(CARD, mantrap(['door-a']), MON_10).reason, 'granted');
  });
});

describe('decide: site lockdown', () => {
  const locked = (override: boolean): DecisionSnapshot =>
    snapshot({ site: { id: 'site-1', timezone: 'Europe/Berlin', lockdown: true }, cardholder: { id: 'holder-1', status: 'active', validFrom: null, validUntil: null, lockdownOverride: override } });
  test('everything is denied, even an otherwise valid card in schedule', () => {
    assert.deepEqual([decide(CARD, locked(false), MON_10).granted, decide(CARD, locked(false), MON_10).reason], [false, 'lockdown']);
  });
  test('an authorised override passes, even out of schedule', () => {
    const d = decide(CARD, locked(true), MON_20);
    assert.deepEqual([d.granted, d.reason], [true, 'granted_lockdown_override']);
  });
  test('an override holder with an expired credential is still refused', () => {
    const s = locked(true);
    if (s.credential === undefined) throw new Error('fixture');
    assert.equal(decide(CARD, { ...s, credential: { ...s.credential, validUntil: MON_10 - 1 } }, MON_10).reason, 'credential_expired');
  });
});
