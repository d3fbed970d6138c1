// Readers to doors on the controller: an OSDP card read (RAW Wiegand bits, §7.11) becomes a
// credential key, the EdgeController decides locally, and the door's output is pulsed for the
// release time (osdp_OUT control code 5: temporary on) with a green LED, or a red LED on refusal.
// Reader tamper (bad MAC, replay, lost secure channel, wrong key) raises a critical alarm
// (ACS-5.1.1.5). A read that cannot be decoded is a refusal, never a guess.
//
// Card-and-PIN doors (issue #6): after a card the reader's LED turns amber and the keypad digits
// (osdp_KEYPAD, §7.13: ASCII digits, '#' sent as 0x0D, '*' as 0x7F) are collected until '#', at
// most MAX_PIN_DIGITS (more is a wrong PIN, never a longer buffer), within the door's PIN time;
// '*' clears what was typed. At the time limit whatever was typed is the PIN, and nothing typed
// is a card alone: 'pin required'. Keys without a card waiting are dropped. The digits are never
// logged or kept after the decision.
import { performance } from 'node:perf_hooks';
import type { AlarmSink } from '../../alarms/types.ts';
import { isVigilError } from '../../core/errors.ts';
import type { OsdpCommand } from '../osdp/commands.ts';
import type { OsdpCpEvent, OsdpTamperEvent } from '../osdp/events.ts';
import { wiegandKey } from '../card-key.ts';
import { decodeWiegand } from '../wiegand/formats.ts';
import type { ControllerDecision, EdgeController } from './edge-controller.ts';

export interface ReaderDoor {
  /** OSDP address of the reader on the bus. */
  address: number;
  doorId: string;
  /** PD output driving the lock relay. */
  output: number;
  /** Unlock time, 100 ms units (osdp_OUT timer). */
  releaseTenths: number;
  /** Card-and-PIN doors: how long after the card the PIN may be typed (default 10 s). */
  pinTimeoutMs?: number;
}

export const DEFAULT_PIN_TIMEOUT_MS = 10_000;
/** Longer than any PIN the platform issues (8): a 13th key ends the entry as a wrong PIN. */
export const MAX_PIN_DIGITS = 12;
const KEY_ENTER = new Set([0x0d, 0x23]);
const KEY_CLEAR = new Set([0x7f, 0x2a]);
const LED_AMBER = 3;

/** A card waiting for its PIN at one door. */
interface PinEntry {
  key: string;
  digits: string;
  timer: NodeJS.Timeout;
  cardAt: number;
}

/** What the controller prints: one line per decision, with how long it took. */
export interface DecisionReport {
  doorId: string;
  decision: ControllerDecision;
  /** ms from the card read (or the end of PIN entry) to the decision. */
  decideMs: number;
  pinEntered: boolean;
}

const OSDP_RAW_WIEGAND = 1;
const LED_GREEN = 2;
const LED_RED = 1;

/** The credential key of a card read (convention in src/access/card-key.ts): the decoded card (h10301:FC:CN …) or the raw bits. */
export function credentialKeyOfRead(format: number, bitCount: number, data: Buffer): string | null {
  if (format !== OSDP_RAW_WIEGAND) return `raw:${bitCount}:${data.toString('hex')}`;
  try {
    return wiegandKey(decodeWiegand({ bitCount, data }));
  } catch (err) {
    if (isVigilError(err)) return null; // parity or length wrong: a bad read or a forged one
    throw err;
  }
}

function led(color: number): OsdpCommand {
  return {
    kind: 'LED',
    leds: [{ reader: 0, led: 0, temporary: { controlCode: 2, onTime: 5, offTime: 0, onColor: color, offColor: 0, timer: 20 }, permanent: { controlCode: 0, onTime: 0, offTime: 0, onColor: 0, offColor: 0 } }],
  };
}

export class ReaderDoors {
  readonly #byAddress: Map<number, ReaderDoor>;
  readonly #controller: EdgeController;
  readonly #send: (address: number, command: OsdpCommand) => void;
  readonly #alarms: AlarmSink;
  readonly #onDecision: (report: DecisionReport) => void;
  /** Per reader address: the card waiting for its PIN (one per door: bounded). */
  readonly #pending = new Map<number, PinEntry>();
  #closed = false;
  readonly decisions: Array<{ doorId: string; key: string | null; decision: ControllerDecision; at: number }> = [];

  constructor(o: { doors: readonly ReaderDoor[]; controller: EdgeController; send: (address: number, command: OsdpCommand) => void; alarms: AlarmSink; onDecision?: (report: DecisionReport) => void }) {
    this.#byAddress = new Map(o.doors.map((d) => [d.address, d]));
    this.#controller = o.controller;
    this.#send = o.send;
    this.#alarms = o.alarms;
    this.#onDecision = o.onDecision ?? (() => {});
  }

  /** Ends PIN entries in progress (their timers); no decision is taken for them. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
  }

  /** Wire as the CP's onEvent. */
  onEvent(event: OsdpCpEvent): void {
    if (event.kind === 'offline') {
      this.#alarms.raise({ type: 'reader.offline', severity: 'warning', source: `reader:${event.address}`, message: `reader ${event.address} stopped answering`, dedupeKey: `reader.offline|${event.address}` });
      return;
    }
    if (event.kind === 'online') {
      // ACS-5.4.1.2: whatever the output did before (power loss, a pulse cut short), the lock
      // is set locked as soon as the reader answers over the secure channel.
      const door = this.#byAddress.get(event.address);
      if (door !== undefined) this.#send(door.address, { kind: 'OUT', outputs: [{ output: door.output, controlCode: 1, timer: 0 }] });
      this.#alarms.clear(`reader.offline|${event.address}`, 'the reader answers again over the secure channel');
      return;
    }
    if (event.kind === 'keypad') {
      this.#keys(event.address, event.keys);
      return;
    }
    if (event.kind !== 'card') return;
    const door = this.#byAddress.get(event.address);
    if (door === undefined) return;
    const t0 = performance.now();
    const key = credentialKeyOfRead(event.format, event.bitCount, event.data);
    if (key !== null && this.#controller.needsPin(door.doorId)) {
      this.#startPin(door, key);
      return;
    }
    const decision: ControllerDecision = key === null ? { granted: false, reason: 'unknown credential', holderId: null } : this.#controller.decide(key, door.doorId);
    this.#act(door, key, decision, t0, false);
  }

  /** A new card replaces one still waiting for its PIN (that one is decided as a card alone). */
  #startPin(door: ReaderDoor, key: string): void {
    this.#finishPin(door, undefined);
    const timer = setTimeout(() => this.#finishPin(door, 'timeout'), door.pinTimeoutMs ?? DEFAULT_PIN_TIMEOUT_MS);
    timer.unref();
    this.#pending.set(door.address, { key, digits: '', timer, cardAt: performance.now() });
    this.#send(door.address, led(LED_AMBER));
  }

  #keys(address: number, keys: Buffer): void {
    const door = this.#byAddress.get(address);
    const entry = this.#pending.get(address);
    if (door === undefined || entry === undefined) return;
    for (const k of keys) {
      if (KEY_ENTER.has(k)) return this.#finishPin(door, 'enter');
      if (KEY_CLEAR.has(k)) entry.digits = '';
      else if (k >= 0x30 && k <= 0x39) {
        // One key past the bound ends the entry: never a longer buffer, never a PIN that matches.
        if (entry.digits.length >= MAX_PIN_DIGITS) return this.#finishPin(door, 'overflow');
        entry.digits += String.fromCharCode(k);
      }
    }
  }

  /** `why` undefined: a card replaced the entry. The typed digits leave the entry here. */
  #finishPin(door: ReaderDoor, why: 'enter' | 'timeout' | 'overflow' | undefined): void {
    const entry = this.#pending.get(door.address);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#pending.delete(door.address);
    // Too many digits: a value no verifier matches, so a wrong PIN (counted towards the lockout).
    const pin = why === 'overflow' ? 'overflow' : entry.digits === '' ? undefined : entry.digits;
    entry.digits = '';
    const t0 = performance.now();
    this.#controller.decideWithPin(entry.key, door.doorId, pin).then(
      (decision) => {
        if (!this.#closed) this.#act(door, entry.key, decision, t0, pin !== undefined);
      },
      (err: unknown) => {
        // A decision that cannot be taken is a refusal (fail secure), reported as an alarm.
        this.#alarms.raise({ type: 'access.decision_failed', severity: 'warning', source: `door:${door.doorId}`, message: `PIN decision failed: ${err instanceof Error ? err.message : String(err)}` });
        if (!this.#closed) this.#send(door.address, led(LED_RED));
      },
    );
  }

  #act(door: ReaderDoor, key: string | null, decision: ControllerDecision, t0: number, pinEntered: boolean): void {
    this.decisions.push({ doorId: door.doorId, key, decision, at: performance.now() });
    if (this.decisions.length > 1000) this.decisions.shift();
    this.#onDecision({ doorId: door.doorId, decision, decideMs: performance.now() - t0, pinEntered });
    if (decision.granted && decision.duress === true) {
      // Duress: the door opens as usual (nothing at the reader betrays it); the operator is told.
      this.#alarms.raise({ type: 'access.duress', severity: 'critical', source: `door:${door.doorId}`, message: `duress PIN used at door ${door.doorId}` });
    }
    if (decision.granted) {
      this.#send(door.address, { kind: 'OUT', outputs: [{ output: door.output, controlCode: 5, timer: door.releaseTenths }] });
      this.#send(door.address, led(LED_GREEN));
    } else {
      this.#send(door.address, led(LED_RED));
    }
  }

  /** Wire as the CP's onTamper. */
  onTamper(event: OsdpTamperEvent): void {
    this.#alarms.raise({
      type: 'reader.tamper',
      severity: 'critical',
      source: `reader:${event.address}`,
      message: `reader ${event.address}: ${event.reason} — the message was refused`,
      dedupeKey: `reader.tamper|${event.address}|${event.reason}`,
      details: { address: event.address, reason: event.reason, side: event.side },
    });
  }
}
