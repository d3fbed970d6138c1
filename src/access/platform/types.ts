// The access-control platform's domain model as the decision engine and the services see it.
// Times are epoch ms; schedule times are "HH:MM" in the site's time zone.

export const ANTI_PASSBACK_MODES = ['off', 'soft', 'hard'] as const;
export type AntiPassbackMode = (typeof ANTI_PASSBACK_MODES)[number];

export const DOOR_MODES = ['card', 'card_and_pin', 'locked'] as const;
export type DoorMode = (typeof DOOR_MODES)[number];

export const CARDHOLDER_STATUSES = ['active', 'suspended'] as const;
export type CardholderStatus = (typeof CARDHOLDER_STATUSES)[number];

export const CREDENTIAL_STATUSES = ['active', 'suspended', 'lost', 'revoked'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export const CARD_FORMATS = ['h10301', 'h10302', 'h10304', 'c1k35', 'raw'] as const;
export type CardFormat = (typeof CARD_FORMATS)[number];

export interface WeeklyInterval {
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** "HH:MM" inclusive start, "HH:MM" exclusive end; "24:00" allowed as end. from < to. */
  from: string;
  to: string;
}

export interface Holiday {
  /** Local date of the site, YYYY-MM-DD. */
  date: string;
  name: string;
  /** The holiday's own intervals, replacing the weekly ones that day; [] = closed all day. */
  intervals: Array<{ from: string; to: string }>;
}

export interface ScheduleFacts {
  id: string;
  intervals: WeeklyInterval[];
  holidays: Holiday[];
}

export interface DoorFacts {
  id: string;
  siteId: string;
  areaFrom: string | null;
  areaTo: string | null;
  mode: DoorMode;
  interlockGroup: string | null;
  unlockSchedule: ScheduleFacts | null;
  firstPersonIn: boolean;
}

export interface CredentialFacts {
  id: string;
  cardholderId: string;
  status: CredentialStatus;
  validFrom: number | null;
  validUntil: number | null;
  /** 'hmac-sha256$…' or null when the credential has no PIN. */
  pinHash: string | null;
  duressPinHash: string | null;
}

export interface CardholderFacts {
  id: string;
  status: CardholderStatus;
  validFrom: number | null;
  validUntil: number | null;
  lockdownOverride: boolean;
}

export interface LevelFacts {
  id: string;
  doorIds: readonly string[];
  schedule: ScheduleFacts;
}

/** Everything the engine needs to decide one request, gathered by the service beforehand. */
export interface DecisionSnapshot {
  site: { id: string; timezone: string; lockdown: boolean };
  door: DoorFacts;
  /** The credential matching the presented card, if any. */
  credential: CredentialFacts | undefined;
  cardholder: CardholderFacts | undefined;
  /** Access levels assigned to the cardholder. */
  levels: readonly LevelFacts[];
  /** Anti-passback rule of the area the door leads into ('off' when not tracked). */
  entryAntiPassback: AntiPassbackMode;
  /** The area the cardholder was last granted into on this site, or null when unknown. */
  presenceAreaId: string | null;
  /** Other doors of the door's interlock group that are open right now. */
  interlockOpenDoorIds: readonly string[];
}

export interface AccessRequest {
  doorId: string;
  cardFormat: CardFormat;
  cardNumber: string;
  /** HMAC of the PIN typed at the reader, computed with the credential's key (pin.ts); never the PIN. */
  pinMac?: string;
}

export const DECISION_REASONS = [
  'granted',
  'granted_duress',
  'granted_anti_passback_soft',
  'granted_lockdown_override',
  'unknown_credential',
  'credential_suspended',
  'credential_revoked',
  'credential_not_yet_valid',
  'credential_expired',
  'cardholder_suspended',
  'cardholder_not_yet_valid',
  'cardholder_expired',
  'pin_required',
  'pin_invalid',
  'lockdown',
  'door_locked',
  'no_access_level',
  'outside_schedule',
  'interlock',
  'anti_passback',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export interface AlarmDraft {
  type: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

/** An access event before the service gives it an ID (ACS-5.6.1.1). */
export interface AccessEventDraft {
  ts: string;
  category: 'access' | 'door' | 'lockdown';
  type: string;
  outcome: 'granted' | 'denied' | 'alarm' | 'info';
  reason: string;
  source: string;
  siteId: string | null;
  doorId: string | null;
  cardholderId: string | null;
  credentialId: string | null;
  details: Record<string, string | number | boolean | null>;
}

export interface DoorDecision {
  granted: boolean;
  reason: DecisionReason;
  event: AccessEventDraft;
  /** Alarms to raise with the decision (duress: silent to the reader, loud to the operator). */
  alarms: AlarmDraft[];
  /** On grant through a door with an area_to: the area the cardholder is now in. */
  enteredAreaId: string | null;
}
