// The door decision, pure: decide(request, snapshot, now) → granted or not, one reason code,
// the event to store and the alarms to raise. No clock, no I/O: the service gathers the
// snapshot and applies the outcome. Default deny: only the last line grants.
import { isoTime } from '../../core/clock.ts';
import { macEquals } from './pin.ts';
import { scheduleActive } from './schedule.ts';
import type { AccessEventDraft, AccessRequest, AlarmDraft, DecisionReason, DecisionSnapshot, DoorDecision } from './types.ts';

function window(validFrom: number | null, validUntil: number | null, now: number): 'before' | 'after' | 'inside' {
  if (validFrom !== null && now < validFrom) return 'before';
  if (validUntil !== null && now >= validUntil) return 'after';
  return 'inside';
}

/** The first reason to refuse on the credential, its holder and the PIN; or 'duress' / 'ok'. */
function checkIdentity(request: AccessRequest, s: DecisionSnapshot, now: number): DecisionReason | 'ok' | 'duress' {
  const c = s.credential;
  if (c === undefined) return 'unknown_credential';
  if (c.status === 'suspended') return 'credential_suspended';
  if (c.status !== 'active') return 'credential_revoked';
  const cw = window(c.validFrom, c.validUntil, now);
  if (cw === 'before') return 'credential_not_yet_valid';
  if (cw === 'after') return 'credential_expired';
  const h = s.cardholder;
  if (h === undefined || h.id !== c.cardholderId) return 'unknown_credential';
  if (h.status !== 'active') return 'cardholder_suspended';
  const hw = window(h.validFrom, h.validUntil, now);
  if (hw === 'before') return 'cardholder_not_yet_valid';
  if (hw === 'after') return 'cardholder_expired';
  // A duress PIN grants like the real one and raises a silent alarm, on any door mode.
  if (request.pinMac !== undefined && macEquals(request.pinMac, c.duressPinHash)) return 'duress';
  if (s.door.mode === 'card_and_pin') {
    if (request.pinMac === undefined) return 'pin_required';
    if (!macEquals(request.pinMac, c.pinHash)) return 'pin_invalid';
  }
  return 'ok';
}

/** Anti-passback: the holder must come from the area this door leaves (unknown presence is forgiven). */
function passbackViolated(s: DecisionSnapshot): boolean {
  if (s.entryAntiPassback === 'off' || s.door.areaTo === null || s.presenceAreaId === null) return false;
  if (s.presenceAreaId === s.door.areaTo) return true;
  return s.door.areaFrom !== null && s.presenceAreaId !== s.door.areaFrom;
}

export function decide(request: AccessRequest, s: DecisionSnapshot, now: number): DoorDecision {
  const alarms: AlarmDraft[] = [];
  const out = (reason: DecisionReason, granted: boolean): DoorDecision => ({
    granted,
    reason,
    event: accessEvent(request, s, now, granted, reason),
    alarms,
    enteredAreaId: granted ? s.door.areaTo : null,
  });
  if (request.doorId !== s.door.id) return out('unknown_credential', false);

  const identity = checkIdentity(request, s, now);
  if (identity !== 'ok' && identity !== 'duress') return out(identity, false);
  if (identity === 'duress') {
    alarms.push({ type: 'access.duress', severity: 'critical', message: `duress PIN used at door ${s.door.id}` });
  }

  // Lockdown: everything is refused but an authorised override (ACS: site lockdown).
  if (s.site.lockdown) {
    if (s.cardholder?.lockdownOverride !== true) return out('lockdown', false);
    return out(identity === 'duress' ? 'granted_duress' : 'granted_lockdown_override', true);
  }
  if (s.door.mode === 'locked') return out('door_locked', false);

  const levels = s.levels.filter((l) => l.doorIds.includes(s.door.id));
  if (levels.length === 0) return out('no_access_level', false);
  if (!levels.some((l) => scheduleActive(l.schedule, now, s.site.timezone))) return out('outside_schedule', false);

  // Interlock (mantrap): this door may open only while the others of its group are shut.
  if (s.interlockOpenDoorIds.some((id) => id !== s.door.id)) return out('interlock', false);

  if (passbackViolated(s)) {
    if (s.entryAntiPassback === 'hard') return out('anti_passback', false);
    alarms.push({ type: 'access.anti_passback', severity: 'warning', message: `anti-passback violation at door ${s.door.id} (soft: granted)` });
    if (identity !== 'duress') return out('granted_anti_passback_soft', true);
  }
  return out(identity === 'duress' ? 'granted_duress' : 'granted', true);
}

function accessEvent(request: AccessRequest, s: DecisionSnapshot, now: number, granted: boolean, reason: DecisionReason): AccessEventDraft {
  return {
    ts: isoTime(now),
    category: 'access',
    type: granted ? 'access.granted' : 'access.denied',
    outcome: granted ? 'granted' : 'denied',
    reason,
    source: `door:${request.doorId}`,
    siteId: s.site.id,
    doorId: request.doorId,
    cardholderId: s.cardholder?.id ?? null,
    credentialId: s.credential?.id ?? null,
    // The card is identified by format and number; a PIN or its MAC never enters an event.
    details: { cardFormat: request.cardFormat, cardNumber: request.cardNumber, pinPresented: request.pinMac !== undefined },
  };
}
