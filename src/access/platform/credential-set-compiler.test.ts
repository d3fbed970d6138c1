// Online = offline (issue #6, ACS-5.4.2.3): for generated sites, doors, schedules with holidays,
// holders, credentials and access levels, the platform's decision engine and the edge controller
// holding the compiled, signed set decide every card read the same way — granted or not, and for
// the same reason wherever the edge holds the card. Each world is then changed and republished
// as a delta, and compared again. Seeded, bounded: WORLDS × REQUESTS × 2 comparisons.
// Issue #6, card and PIN: the same worlds with PINs and duress PINs (platform: HMAC; edge: the
// PBKDF2 verifiers derived beside it), each read with no PIN, the PIN, the duress PIN or a wrong
// one: PIN_WORLDS × REQUESTS × 2 comparisons, own seed, verifiers at 1,000 iterations for speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { deriveEdgePinVerifier } from '../edge-pin.ts';
import { pinMac } from './pin.ts';
import { ManualClock } from '../../core/clock.ts';
import { seededRandom } from '../../core/random.ts';
import { deviceSignerFromPrivateKey } from '../../crypto/signer.ts';
import { credentialKey } from '../card-key.ts';
import { signCredentialSet } from '../controller/credential-set.ts';
import { EdgeController } from '../controller/edge-controller.ts';
import { PublishedCredentialSets } from '../controller/sync-source.ts';
import { compileCredentialSet, type ControllerDoor, type PublishedCredential } from './credential-set-compiler.ts';
import { decide } from './decision-engine.ts';
import type { CardholderFacts, DecisionReason, DoorMode, Holiday, LevelFacts, ScheduleFacts, WeeklyInterval } from './types.ts';

const SEED = 0x5eed0006;
const WORLDS = 120;
const REQUESTS = 40;
const PIN_SEED = 0x5eed0616;
const PIN_WORLDS = 60;
const TEST_ITERATIONS = 1_000;
const PIN_KEY = randomBytes(32);
const T0 = Date.parse('2026-12-20T00:00:00Z');
const DAY = 86_400_000;
const SPAN_DAYS = 14;
const ZONES = ['UTC', 'Asia/Taipei', 'America/New_York', 'Europe/Berlin'];
const platform = deviceSignerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);

const rng = seededRandom;

const EDGE_REASON: Readonly<Record<DecisionReason, string>> = {
  granted: 'granted', granted_duress: 'granted', granted_anti_passback_soft: 'granted', granted_lockdown_override: 'granted',
  unknown_credential: 'unknown credential', credential_suspended: 'unknown credential', credential_revoked: 'unknown credential', cardholder_suspended: 'unknown credential',
  credential_not_yet_valid: 'not valid yet', cardholder_not_yet_valid: 'not valid yet', credential_expired: 'expired', cardholder_expired: 'expired',
  pin_required: 'pin required', pin_invalid: 'wrong pin', lockdown: 'lockdown', door_locked: 'door locked', no_access_level: 'not allowed at this door',
  outside_schedule: 'outside schedule', interlock: 'interlock', anti_passback: 'anti-passback',
};

interface World {
  sites: Array<{ id: string; timezone: string; lockdown: boolean }>;
  doors: ControllerDoor[];
  /** A door of the platform on no controller: levels may include it. */
  otherDoor: string;
  schedules: ScheduleFacts[];
  levels: LevelFacts[];
  holders: Map<string, CardholderFacts>;
  holderLevels: Map<string, string[]>;
  credentials: PublishedCredential[];
}

function hhmm(minute: number): string {
  return minute === 1440 ? '24:00' : `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

function generate(r: () => number, w: number): World {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const window = (): { validFrom: number | null; validUntil: number | null } => {
    const from = r() < 0.75 ? null : T0 + Math.floor(r() * SPAN_DAYS * DAY);
    const until = r() < 0.75 ? null : (from ?? T0) + Math.floor(r() * SPAN_DAYS * DAY) + 1;
    return { validFrom: from, validUntil: until };
  };
  const sites = [0, 1].map((i) => ({ id: `site-${w}-${i}`, timezone: pick(ZONES), lockdown: r() < 0.15 }));
  const modes: DoorMode[] = ['card', 'card', 'card', 'card', 'card_and_pin', 'locked'];
  const doors: ControllerDoor[] = [0, 1, 2, 3].map((i) => {
    const site = pick(sites);
    return { site, door: { id: `door-${w}-${i}`, siteId: site.id, areaFrom: null, areaTo: null, mode: pick(modes), interlockGroup: null, unlockSchedule: null, firstPersonIn: false } };
  });
  const schedules: ScheduleFacts[] = [0, 1, 2, 3].map((i) => {
    const intervals: WeeklyInterval[] = [];
    for (let k = Math.floor(r() * 3) + (i === 0 ? 1 : 0); k > 0; k--) {
      const from = Math.floor(r() * 95) * 15;
      const to = Math.min(1440, from + 15 + Math.floor(r() * 80) * 15);
      intervals.push({ days: [0, 1, 2, 3, 4, 5, 6].filter(() => r() < 0.75), from: hhmm(from), to: hhmm(to) });
    }
    const holidays: Holiday[] = [];
    for (let k = Math.floor(r() * 3); k > 0; k--) {
      const date = new Date(T0 + Math.floor(r() * SPAN_DAYS) * DAY).toISOString().slice(0, 10);
      if (holidays.some((h) => h.date === date)) continue;
      holidays.push({ date, name: 'Holiday', intervals: r() < 0.5 ? [] : [{ from: '09:00', to: '12:00' }] });
    }
    return { id: `sched-${w}-${i}`, intervals: intervals.filter((x) => x.days.length > 0), holidays };
  });
  const otherDoor = `door-${w}-other`;
  const levels: LevelFacts[] = [0, 1, 2, 3].map((i) => ({ id: `level-${w}-${i}`, schedule: pick(schedules), doorIds: [...doors.map((d) => d.door.id), otherDoor].filter(() => r() < 0.6) }));
  const holders = new Map<string, CardholderFacts>();
  const holderLevels = new Map<string, string[]>();
  for (let i = 0; i < 6; i++) {
    const id = `holder-${w}-${i}`;
    holders.set(id, { id, status: r() < 0.85 ? 'active' : 'suspended', ...window(), lockdownOverride: r() < 0.2 });
    holderLevels.set(id, levels.filter(() => r() < 0.6).map((l) => l.id));
  }
  const holderIds = [...holders.keys()];
  const credentials: PublishedCredential[] = [];
  for (let i = 0; i < 8; i++) {
    const statuses = ['active', 'active', 'active', 'active', 'active', 'active', 'active', 'suspended', 'lost', 'revoked'] as const;
    // H10301 numbers: FC 90, CN unique per credential (card-key.ts: payload = FC << 16 | CN).
    credentials.push({ id: `cred-${w}-${i}`, cardholderId: pick(holderIds), status: pick(statuses), ...window(), pinHash: null, duressPinHash: null, edgePinVerifier: null, edgeDuressVerifier: null, cardFormat: 'h10301', cardNumber: String(90 * 65536 + 100 + i) });
  }
  return { sites, doors, otherDoor, schedules, levels, holders, holderLevels, credentials };
}

function levelsOf(world: World): Map<string, LevelFacts[]> {
  return new Map([...world.holderLevels].map(([h, ids]) => [h, world.levels.filter((l) => ids.includes(l.id))]));
}

/** The platform, online: the snapshot its door service would gather for this read (and PIN). */
function online(world: World, cardNumber: string, door: ControllerDoor, now: number, pin?: string): DecisionReason {
  const c = world.credentials.find((x) => x.cardFormat === 'h10301' && x.cardNumber === cardNumber);
  const holder = c === undefined ? undefined : world.holders.get(c.cardholderId);
  // door-service.ts: the PIN is MACed for a known credential only.
  const mac = pin !== undefined && c !== undefined ? { pinMac: pinMac(PIN_KEY, c.id, pin) } : {};
  const decision = decide(
    { doorId: door.door.id, cardFormat: 'h10301', cardNumber, ...mac },
    {
      site: door.site, door: door.door, credential: c, cardholder: holder,
      levels: holder === undefined ? [] : (levelsOf(world).get(holder.id) ?? []),
      entryAntiPassback: 'off', presenceAreaId: null, interlockOpenDoorIds: [],
    },
    now,
  );
  return decision.reason;
}

/** Changes a world the way operators do: a schedule, a holder, a level, a lockdown, a door mode. */
function mutate(r: () => number, world: World): void {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const s = pick(world.schedules);
  s.intervals = s.intervals.length > 0 ? s.intervals.slice(1) : [{ days: [0, 1, 2, 3, 4, 5, 6], from: '06:00', to: '20:00' }];
  const h = pick([...world.holders.values()]);
  h.status = h.status === 'active' ? 'suspended' : 'active';
  world.holderLevels.set(pick([...world.holders.keys()]), world.levels.filter(() => r() < 0.5).map((l) => l.id));
  const site = pick(world.sites);
  site.lockdown = !site.lockdown;
  const d = pick(world.doors);
  d.door.mode = d.door.mode === 'card' ? 'locked' : 'card';
  const c = pick(world.credentials);
  c.status = c.status === 'active' ? 'revoked' : 'active';
  world.credentials.push({ id: `cred-new-${world.credentials.length}`, cardholderId: pick([...world.holders.keys()]), status: 'active', validFrom: null, validUntil: null, pinHash: null, duressPinHash: null, edgePinVerifier: null, edgeDuressVerifier: null, cardFormat: 'h10301', cardNumber: String(90 * 65536 + 100 + world.credentials.length) });
}

/** Publishes a compiled set and applies what the controller pulls (a full set, then deltas on the version it holds). */
async function deliver(source: PublishedCredentialSets, edge: EdgeController, clock: ManualClock, compiled: ReturnType<typeof compileCredentialSet>): Promise<{ have: number; baseVersion: number | null }> {
  const have = edge.version;
  source.publish('ctl-eq', compiled.entries, compiled.model);
  const changes = await source.changesSince('ctl-eq', have);
  assert.ok(changes !== null);
  edge.apply(signCredentialSet(platform, { controllerId: 'ctl-eq', issuedAt: clock.now(), ...changes }));
  return { have, baseVersion: changes.baseVersion };
}

test('online = offline: the decision engine and the edge controller with the compiled set agree on every generated card read, after full sets and deltas', async () => {
  const r = rng(SEED);
  let compared = 0;
  let granted = 0;
  let reasonChecked = 0;
  const seenReasons = new Set<string>();
  for (let w = 0; w < WORLDS; w++) {
    const world = generate(r, w);
    const clock = new ManualClock(T0 - DAY);
    const source = new PublishedCredentialSets(clock);
    const edge = new EdgeController({
      controllerId: 'ctl-eq', platformKeyPem: platform.publicKeyPem, storageKey: randomBytes(32), clock,
      doors: Object.fromEntries(world.doors.map((d) => [d.door.id, { maxOfflineMs: 365 * DAY }])),
    });
    for (let round = 0; round < 2; round++) {
      const compiled = compileCredentialSet({ doors: world.doors, holders: world.holders, credentials: world.credentials, levelsOf: levelsOf(world) });
      clock.set(T0 - DAY + round);
      const { have, baseVersion } = await deliver(source, edge, clock, compiled);
      assert.equal(baseVersion, round === 0 ? null : have, 'a full set first, then a delta on the version held');
      const keys = new Set(compiled.entries.map((e) => e.key));
      for (let i = 0; i < REQUESTS; i++) {
        const door = world.doors[Math.floor(r() * world.doors.length)];
        assert.ok(door !== undefined);
        const known = r() < 0.9 ? world.credentials[Math.floor(r() * world.credentials.length)] : undefined;
        const cardNumber = known?.cardNumber ?? String(90 * 65536 + 9000 + i);
        // Times across two weeks, often on a minute boundary or at a validity edge.
        let now = T0 + Math.floor(r() * SPAN_DAYS * DAY);
        if (r() < 0.3) now -= now % 60_000;
        if (known !== undefined && r() < 0.15) now = r() < 0.5 ? (known.validFrom ?? now) : (known.validUntil ?? now);
        clock.set(now);
        const expected = online(world, cardNumber, door, now);
        const key = credentialKey('h10301', cardNumber);
        assert.ok(key !== null);
        const got = edge.decide(key, door.door.id);
        const edgeReason = got.granted ? 'granted' : got.reason;
        const context = `world ${w} round ${round} request ${i}: card ${cardNumber} at ${door.door.id} (${door.door.mode}, ${door.site.timezone}, lockdown ${door.site.lockdown}) at ${new Date(now).toISOString()}: online ${expected}, edge ${edgeReason}`;
        assert.equal(got.granted, expected.startsWith('granted'), context);
        if (keys.has(key)) {
          assert.equal(edgeReason, EDGE_REASON[expected], context);
          reasonChecked++;
        } else {
          assert.equal(edgeReason, 'unknown credential', context);
        }
        seenReasons.add(expected);
        compared++;
        if (got.granted) granted++;
      }
      mutate(r, world);
    }
  }
  assert.equal(compared, WORLDS * REQUESTS * 2);
  // The generator reaches every rule the edge enforces, both ways.
  for (const reason of ['granted', 'granted_lockdown_override', 'unknown_credential', 'credential_suspended', 'credential_not_yet_valid', 'credential_expired', 'cardholder_suspended', 'cardholder_not_yet_valid', 'cardholder_expired', 'pin_required', 'lockdown', 'door_locked', 'no_access_level', 'outside_schedule']) {
    assert.ok(seenReasons.has(reason), `the generator never produced ${reason}`);
  }
  assert.ok(granted > compared / 25, `enough grants to mean something (${granted} of ${compared})`);
  console.log(`# online = offline: ${compared} card reads compared (${granted} granted; reason compared on ${reasonChecked})`);
});

/** Random 4–8 digit PIN. */
function randomPin(r: () => number): string {
  const n = 4 + Math.floor(r() * 5);
  let pin = '';
  for (let i = 0; i < n; i++) pin += String(Math.floor(r() * 10));
  return pin;
}

/** PINs as the holder service sets them: MAC for the platform, PBKDF2 verifier for the edge; some set before edge verifiers. */
async function addPins(r: () => number, world: World, clear: Map<string, { pin?: string; duress?: string; legacy: boolean }>): Promise<void> {
  for (const c of world.credentials) {
    if (r() < 0.35) continue;
    const pin = randomPin(r);
    let duress = r() < 0.6 ? randomPin(r) : undefined;
    if (duress === pin) duress = undefined;
    const legacy = r() < 0.1;
    c.pinHash = pinMac(PIN_KEY, c.id, pin);
    c.duressPinHash = duress === undefined ? null : pinMac(PIN_KEY, c.id, duress);
    c.edgePinVerifier = legacy ? null : await deriveEdgePinVerifier(pin, TEST_ITERATIONS);
    c.edgeDuressVerifier = legacy || duress === undefined ? null : await deriveEdgePinVerifier(duress, TEST_ITERATIONS);
    clear.set(c.id, { pin, ...(duress === undefined ? {} : { duress }), legacy });
  }
}

const BEFORE_PIN = new Set<DecisionReason>(['unknown_credential', 'credential_suspended', 'credential_revoked', 'credential_not_yet_valid', 'credential_expired', 'cardholder_suspended', 'cardholder_not_yet_valid', 'cardholder_expired']);

test('online = offline with PINs: no PIN, the PIN, the duress PIN or a wrong one decide the same at the edge (verifiers) as online (MACs)', async () => {
  const r = rng(PIN_SEED);
  let compared = 0;
  let notAtEdge = 0;
  const seen = new Map<string, number>();
  for (let w = 0; w < PIN_WORLDS; w++) {
    const world = generate(r, w);
    // More card-and-PIN doors than the card-read test: half of them.
    for (const d of world.doors) if (r() < 0.5) d.door.mode = 'card_and_pin';
    const clear = new Map<string, { pin?: string; duress?: string; legacy: boolean }>();
    await addPins(r, world, clear);
    const clock = new ManualClock(T0 - DAY);
    const source = new PublishedCredentialSets(clock);
    const edge = new EdgeController({
      controllerId: 'ctl-eq', platformKeyPem: platform.publicKeyPem, storageKey: randomBytes(32), clock,
      doors: Object.fromEntries(world.doors.map((d) => [d.door.id, { maxOfflineMs: 365 * DAY }])),
      // The lockout is the edge's own rule (tested in edge-controller.test.ts), not the platform's.
      pinAttempts: Number.MAX_SAFE_INTEGER, dummyPinIterations: TEST_ITERATIONS,
    });
    for (let round = 0; round < 2; round++) {
      const compiled = compileCredentialSet({ doors: world.doors, holders: world.holders, credentials: world.credentials, levelsOf: levelsOf(world) });
      // Never the platform's MAC in a published entry: only the PBKDF2 verifiers.
      assert.ok(!JSON.stringify(compiled.entries).includes('hmac-sha256$'));
      clock.set(T0 - DAY + round);
      await deliver(source, edge, clock, compiled);
      const keys = new Set(compiled.entries.map((e) => e.key));
      for (let i = 0; i < REQUESTS; i++) {
        const door = world.doors[Math.floor(r() * world.doors.length)];
        assert.ok(door !== undefined);
        const known = r() < 0.9 ? world.credentials[Math.floor(r() * world.credentials.length)] : undefined;
        const cardNumber = known?.cardNumber ?? String(90 * 65536 + 9000 + i);
        const pins = known === undefined ? undefined : clear.get(known.id);
        const p = r();
        const pin = p < 0.2 ? undefined : p < 0.5 ? (pins?.pin ?? randomPin(r)) : p < 0.7 ? (pins?.duress ?? randomPin(r)) : randomPin(r);
        const now = T0 + Math.floor(r() * SPAN_DAYS * DAY);
        clock.set(now);
        const expected = online(world, cardNumber, door, now, pin);
        const key = credentialKey('h10301', cardNumber);
        assert.ok(key !== null);
        const got = await edge.decideWithPin(key, door.door.id, pin);
        const edgeReason = got.granted ? 'granted' : got.reason;
        const context = `PIN world ${w} round ${round} request ${i}: card ${cardNumber} ${pin === undefined ? 'no PIN' : pin === pins?.pin ? 'PIN' : pin === pins?.duress ? 'duress PIN' : 'wrong PIN'} at ${door.door.id} (${door.door.mode}, lockdown ${door.site.lockdown}): online ${expected}, edge ${edgeReason}`;
        if (pins?.legacy === true && keys.has(key)) {
          // A PIN set before edge verifiers: card-and-PIN doors refuse it past the identity checks.
          if (door.door.mode === 'card_and_pin' && !BEFORE_PIN.has(expected)) {
            assert.equal(edgeReason, 'pin not at the edge', context);
            notAtEdge++;
            continue;
          }
          assert.notEqual(edgeReason, 'pin not at the edge', context);
        }
        assert.equal(got.granted, expected.startsWith('granted'), context);
        assert.equal(edgeReason, keys.has(key) ? EDGE_REASON[expected] : 'unknown credential', context);
        if (pins?.legacy !== true) assert.equal(got.granted && got.duress === true, expected === 'granted_duress', context);
        seen.set(expected, (seen.get(expected) ?? 0) + 1);
        compared++;
      }
      mutate(r, world);
    }
  }
  assert.equal(compared + notAtEdge, PIN_WORLDS * REQUESTS * 2);
  for (const reason of ['granted', 'granted_duress', 'pin_required', 'pin_invalid']) assert.ok((seen.get(reason) ?? 0) >= 15, `the generator produced ${reason} only ${seen.get(reason) ?? 0} times`);
  assert.ok(notAtEdge > 0, 'credentials without edge verifiers reached card-and-PIN doors');
  console.log(`# online = offline with PINs: ${compared} card+PIN reads compared (granted ${seen.get('granted') ?? 0}, duress ${seen.get('granted_duress') ?? 0}, pin required ${seen.get('pin_required') ?? 0}, wrong pin ${seen.get('pin_invalid') ?? 0}); ${notAtEdge} refused as 'pin not at the edge' (PIN set before edge verifiers)`);
});
