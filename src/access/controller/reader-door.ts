// Readers to doors on the controller: an OSDP card read (RAW Wiegand bits, §7.11) becomes a
// credential key, the EdgeController decides locally, and the door's output is pulsed for the
// release time (osdp_OUT control code 5: temporary on) with a green LED, or a red LED on refusal.
// Reader tamper (bad MAC, replay, lost secure channel, wrong key) raises a critical alarm
// (ACS-5.1.1.5). A read that cannot be decoded is a refusal, never a guess.
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
  readonly decisions: Array<{ doorId: string; key: string | null; decision: ControllerDecision; at: number }> = [];

  constructor(o: { doors: readonly ReaderDoor[]; controller: EdgeController; send: (address: number, command: OsdpCommand) => void; alarms: AlarmSink }) {
    this.#byAddress = new Map(o.doors.map((d) => [d.address, d]));
    this.#controller = o.controller;
    this.#send = o.send;
    this.#alarms = o.alarms;
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
    if (event.kind !== 'card') return;
    const door = this.#byAddress.get(event.address);
    if (door === undefined) return;
    const key = credentialKeyOfRead(event.format, event.bitCount, event.data);
    const decision: ControllerDecision = key === null ? { granted: false, reason: 'unknown credential', holderId: null } : this.#controller.decide(key, door.doorId);
    this.decisions.push({ doorId: door.doorId, key, decision, at: performance.now() });
    if (this.decisions.length > 1000) this.decisions.shift();
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
