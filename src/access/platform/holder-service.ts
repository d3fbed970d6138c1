// Cardholders, credentials, access levels and their assignment: rules and audit of every change
// (ACS-5.2.1.12). PINs are kept only as keyed MACs (pin.ts) and are never returned or logged.
import { randomUUID } from 'node:crypto';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import type { RequestContext } from '../../identity/types.ts';
import type { Store } from '../../store/database.ts';
import { HolderRepository, type CardholderRow, type CredentialRow, type LevelRow } from './holder-repository.ts';
import { PIN_PATTERN, type PinHasher } from './pin.ts';
import { SiteRepository } from './site-repository.ts';
import { CARD_FORMATS, CARDHOLDER_STATUSES, CREDENTIAL_STATUSES, type CardFormat, type CardholderStatus, type CredentialStatus } from './types.ts';
import { auditChange, checkName, checkOneOf, checkWindow, invalid, notFound } from './validation.ts';

export const MAX_CARDHOLDERS = 100_000;
export const MAX_CREDENTIALS_PER_HOLDER = 8;
export const MAX_LEVELS = 1000;
export const MAX_DOORS_PER_LEVEL = 1000;
export const MAX_LEVELS_PER_HOLDER = 32;
const CARD_NUMBER = /^[0-9]{1,20}$/;

export interface CardholderInput { name: string; status?: CardholderStatus; validFrom?: number | null; validUntil?: number | null; lockdownOverride?: boolean }
export interface CardholderView { id: string; name: string; status: CardholderStatus; validFrom: number | null; validUntil: number | null; lockdownOverride: boolean; levelIds: string[]; createdAt: number; updatedAt: number }
export interface CredentialInput { cardholderId: string; cardFormat: CardFormat; cardNumber: string; pin?: string | null; duressPin?: string | null; status?: CredentialStatus; validFrom?: number | null; validUntil?: number | null }
export interface CredentialView { id: string; cardholderId: string; cardFormat: CardFormat; cardNumber: string; hasPin: boolean; hasDuressPin: boolean; status: CredentialStatus; validFrom: number | null; validUntil: number | null; createdAt: number; updatedAt: number }
export interface LevelInput { name: string; scheduleId: string; doorIds: string[] }
export interface LevelView extends LevelInput { id: string }

export function credentialView(r: CredentialRow): CredentialView {
  return {
    id: r.id, cardholderId: r.cardholder_id, cardFormat: r.card_format as CardFormat, cardNumber: r.card_number,
    hasPin: r.pin_hash !== null, hasDuressPin: r.duress_pin_hash !== null, status: r.status as CredentialStatus,
    validFrom: r.valid_from, validUntil: r.valid_until, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export function checkCard(format: string, number: string): CardFormat {
  const f = checkOneOf('cardFormat', format, CARD_FORMATS);
  if (!CARD_NUMBER.test(number)) throw invalid('cardNumber', '1-20 decimal digits');
  return f;
}

function checkPins(pin: string | null | undefined, duress: string | null | undefined): void {
  // The PIN itself never goes into the message.
  if (pin !== undefined && pin !== null && !PIN_PATTERN.test(pin)) throw invalid('pin', '4 to 8 digits');
  if (duress !== undefined && duress !== null && !PIN_PATTERN.test(duress)) throw invalid('duressPin', '4 to 8 digits');
  if (duress !== undefined && duress !== null && duress === pin) throw invalid('duressPin', 'must differ from the PIN');
}

export class HolderService {
  readonly repo: HolderRepository;
  readonly #sites: SiteRepository;
  readonly #pins: PinHasher;
  readonly #audit: AuditSink;
  readonly #clock: Clock;

  readonly #changed: () => void;

  /** `changed`: told after every change a controller's credential set may depend on. */
  constructor(o: { store: Store; pins: PinHasher; audit: AuditSink; clock: Clock; changed?: () => void }) {
    this.#changed = o.changed ?? (() => {});
    this.repo = new HolderRepository(o.store.db);
    this.#sites = new SiteRepository(o.store.db);
    this.#pins = o.pins;
    this.#audit = o.audit;
    this.#clock = o.clock;
  }

  // ---- cardholders
  async listCardholders(limit: number, offset: number): Promise<CardholderView[]> {
    const rows = await this.repo.cardholders(Math.min(limit, 1000), offset);
    return Promise.all(rows.map(async (r) => this.#holderView(r)));
  }
  async getCardholder(id: string): Promise<CardholderView> {
    return this.#holderView(await this.#holder(id));
  }
  /** Validates and builds the row; shared with the CSV import. */
  async newCardholderRow(input: CardholderInput): Promise<CardholderRow> {
    checkName('name', input.name);
    const status = checkOneOf('status', input.status ?? 'active', CARDHOLDER_STATUSES);
    checkWindow('validity', input.validFrom ?? null, input.validUntil ?? null);
    if ((await this.repo.countCardholders()) >= MAX_CARDHOLDERS) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_CARDHOLDERS} cardholders`);
    const now = this.#clock.now();
    return { id: randomUUID(), name: input.name, status, valid_from: input.validFrom ?? null, valid_until: input.validUntil ?? null, lockdown_override: input.lockdownOverride === true ? 1 : 0, created_at: now, updated_at: now };
  }
  async createCardholder(input: CardholderInput, ctx: RequestContext): Promise<CardholderView> {
    const row = await this.newCardholderRow(input);
    await this.repo.insertCardholder(row);
    // The name is personal data: the audit log names the holder by ID only.
    auditChange(this.#audit, ctx, 'access.cardholder.create', `cardholder:${row.id}`, { status: row.status, lockdownOverride: row.lockdown_override === 1 });
    this.#changed();
    return this.#holderView(row);
  }
  async updateCardholder(id: string, patch: Partial<CardholderInput>, ctx: RequestContext): Promise<CardholderView> {
    const current = await this.#holder(id);
    const changes: Partial<CardholderRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined) {
      checkName('name', patch.name);
      changes.name = patch.name;
    }
    if (patch.status !== undefined) changes.status = checkOneOf('status', patch.status, CARDHOLDER_STATUSES);
    if (patch.validFrom !== undefined) changes.valid_from = patch.validFrom;
    if (patch.validUntil !== undefined) changes.valid_until = patch.validUntil;
    checkWindow('validity', changes.valid_from !== undefined ? changes.valid_from : current.valid_from, changes.valid_until !== undefined ? changes.valid_until : current.valid_until);
    if (patch.lockdownOverride !== undefined) changes.lockdown_override = patch.lockdownOverride ? 1 : 0;
    await this.repo.updateCardholder(id, changes);
    auditChange(this.#audit, ctx, 'access.cardholder.update', `cardholder:${id}`, { fields: Object.keys(patch).sort().join(','), status: changes.status ?? null });
    this.#changed();
    return this.getCardholder(id);
  }
  async deleteCardholder(id: string, ctx: RequestContext): Promise<void> {
    if (!(await this.repo.deleteCardholder(id))) throw notFound('cardholder', id);
    auditChange(this.#audit, ctx, 'access.cardholder.delete', `cardholder:${id}`);
    this.#changed();
  }
  async setLevels(id: string, levelIds: string[], ctx: RequestContext): Promise<CardholderView> {
    await this.#holder(id);
    await this.checkLevelIds(levelIds);
    await this.repo.setLevelsOf(id, [...new Set(levelIds)]);
    auditChange(this.#audit, ctx, 'access.cardholder.levels', `cardholder:${id}`, { levels: [...new Set(levelIds)].sort().join(',') });
    this.#changed();
    return this.getCardholder(id);
  }
  /** Tells the publisher that holders changed outside these methods (the CSV import). */
  changed(): void {
    this.#changed();
  }
  async checkLevelIds(levelIds: readonly string[]): Promise<void> {
    if (levelIds.length > MAX_LEVELS_PER_HOLDER) throw invalid('levelIds', `at most ${MAX_LEVELS_PER_HOLDER}`);
    for (const l of levelIds) if ((await this.repo.level(l)) === undefined) throw invalid('levelIds', `no access level ${l}`);
  }

  // ---- credentials
  async listCredentials(cardholderId: string): Promise<CredentialView[]> {
    await this.#holder(cardholderId);
    return (await this.repo.credentialsOf(cardholderId, MAX_CREDENTIALS_PER_HOLDER)).map(credentialView);
  }
  async getCredential(id: string): Promise<CredentialView> {
    return credentialView(await this.#credential(id));
  }
  /** Validates and builds the row with PIN MACs; shared with the CSV import. */
  async newCredentialRow(input: CredentialInput): Promise<CredentialRow> {
    const format = checkCard(input.cardFormat, input.cardNumber);
    checkPins(input.pin, input.duressPin);
    const status = checkOneOf('status', input.status ?? 'active', CREDENTIAL_STATUSES);
    checkWindow('validity', input.validFrom ?? null, input.validUntil ?? null);
    if ((await this.repo.credentialByCard(format, input.cardNumber)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `card ${format}:${input.cardNumber} is already issued`);
    const id = randomUUID();
    const now = this.#clock.now();
    return {
      id, cardholder_id: input.cardholderId, card_format: format, card_number: input.cardNumber,
      pin_hash: input.pin === undefined || input.pin === null ? null : await this.#pins.mac(id, input.pin),
      duress_pin_hash: input.duressPin === undefined || input.duressPin === null ? null : await this.#pins.mac(id, input.duressPin),
      // Issue #6: the edge verifiers are derived here, while the PIN is in hand, and only here.
      pin_edge_verifier: input.pin === undefined || input.pin === null ? null : await this.#pins.sealedEdgeVerifier(id, 'pin', input.pin),
      duress_pin_edge_verifier: input.duressPin === undefined || input.duressPin === null ? null : await this.#pins.sealedEdgeVerifier(id, 'duress', input.duressPin),
      status, valid_from: input.validFrom ?? null, valid_until: input.validUntil ?? null, created_at: now, updated_at: now,
    };
  }
  async createCredential(input: CredentialInput, ctx: RequestContext): Promise<CredentialView> {
    await this.#holder(input.cardholderId);
    if ((await this.repo.credentialsOf(input.cardholderId, MAX_CREDENTIALS_PER_HOLDER)).length >= MAX_CREDENTIALS_PER_HOLDER) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_CREDENTIALS_PER_HOLDER} credentials per cardholder`);
    const row = await this.newCredentialRow(input);
    await this.repo.insertCredential(row);
    auditChange(this.#audit, ctx, 'access.credential.create', `credential:${row.id}`, { cardholder: row.cardholder_id, format: row.card_format, hasPin: row.pin_hash !== null, hasDuressPin: row.duress_pin_hash !== null, status: row.status });
    this.#changed();
    return credentialView(row);
  }
  async updateCredential(id: string, patch: Partial<Pick<CredentialInput, 'pin' | 'duressPin' | 'status' | 'validFrom' | 'validUntil'>>, ctx: RequestContext): Promise<CredentialView> {
    const current = await this.#credential(id);
    checkPins(patch.pin, patch.duressPin);
    const changes: Partial<CredentialRow> = { updated_at: this.#clock.now() };
    // A PIN set again replaces its edge verifier (new salt); a PIN cleared removes it (issue #6).
    if (patch.pin !== undefined) {
      changes.pin_hash = patch.pin === null ? null : await this.#pins.mac(id, patch.pin);
      changes.pin_edge_verifier = patch.pin === null ? null : await this.#pins.sealedEdgeVerifier(id, 'pin', patch.pin);
    }
    if (patch.duressPin !== undefined) {
      changes.duress_pin_hash = patch.duressPin === null ? null : await this.#pins.mac(id, patch.duressPin);
      changes.duress_pin_edge_verifier = patch.duressPin === null ? null : await this.#pins.sealedEdgeVerifier(id, 'duress', patch.duressPin);
    }
    const pinHash = changes.pin_hash !== undefined ? changes.pin_hash : current.pin_hash;
    const duressHash = changes.duress_pin_hash !== undefined ? changes.duress_pin_hash : current.duress_pin_hash;
    if (pinHash !== null && pinHash === duressHash) throw invalid('duressPin', 'must differ from the PIN');
    if (patch.status !== undefined) changes.status = checkOneOf('status', patch.status, CREDENTIAL_STATUSES);
    if (patch.validFrom !== undefined) changes.valid_from = patch.validFrom;
    if (patch.validUntil !== undefined) changes.valid_until = patch.validUntil;
    checkWindow('validity', changes.valid_from !== undefined ? changes.valid_from : current.valid_from, changes.valid_until !== undefined ? changes.valid_until : current.valid_until);
    await this.repo.updateCredential(id, changes);
    // Which fields changed, never the PIN values.
    auditChange(this.#audit, ctx, 'access.credential.update', `credential:${id}`, { fields: Object.keys(patch).sort().join(','), status: changes.status ?? null });
    this.#changed();
    return this.getCredential(id);
  }
  async deleteCredential(id: string, ctx: RequestContext): Promise<void> {
    if (!(await this.repo.deleteCredential(id))) throw notFound('credential', id);
    auditChange(this.#audit, ctx, 'access.credential.delete', `credential:${id}`);
    this.#changed();
  }

  // ---- access levels
  async listLevels(): Promise<LevelView[]> {
    const rows = await this.repo.levels(MAX_LEVELS);
    const links = await this.repo.levelDoors(rows.map((r) => r.id));
    return rows.map((r) => ({ id: r.id, name: r.name, scheduleId: r.schedule_id, doorIds: links.filter((l) => l.level_id === r.id).map((l) => l.door_id).sort() }));
  }
  async getLevel(id: string): Promise<LevelView> {
    const r = await this.#level(id);
    const links = await this.repo.levelDoors([id]);
    return { id: r.id, name: r.name, scheduleId: r.schedule_id, doorIds: links.map((l) => l.door_id).sort() };
  }
  async createLevel(input: LevelInput, ctx: RequestContext): Promise<LevelView> {
    checkName('name', input.name);
    const doorIds = await this.#checkLevel(input.scheduleId, input.doorIds);
    if ((await this.repo.levels(MAX_LEVELS)).length >= MAX_LEVELS) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_LEVELS} access levels`);
    if ((await this.repo.levelByName(input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `an access level named ${input.name} exists`);
    const now = this.#clock.now();
    const row: LevelRow = { id: randomUUID(), name: input.name, schedule_id: input.scheduleId, created_at: now, updated_at: now };
    await this.repo.insertLevel(row, doorIds);
    auditChange(this.#audit, ctx, 'access.level.create', `level:${row.id}`, { name: row.name, schedule: row.schedule_id, doors: doorIds.join(',') });
    this.#changed();
    return this.getLevel(row.id);
  }
  async updateLevel(id: string, patch: Partial<LevelInput>, ctx: RequestContext): Promise<LevelView> {
    const current = await this.#level(id);
    const changes: Partial<LevelRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined && patch.name !== current.name) {
      checkName('name', patch.name);
      if ((await this.repo.levelByName(patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `an access level named ${patch.name} exists`);
      changes.name = patch.name;
    }
    const doorIds = await this.#checkLevel(patch.scheduleId ?? current.schedule_id, patch.doorIds ?? []);
    if (patch.scheduleId !== undefined) changes.schedule_id = patch.scheduleId;
    await this.repo.updateLevel(id, changes, patch.doorIds === undefined ? undefined : doorIds);
    auditChange(this.#audit, ctx, 'access.level.update', `level:${id}`, { fields: Object.keys(patch).sort().join(','), doors: patch.doorIds === undefined ? null : doorIds.join(',') });
    this.#changed();
    return this.getLevel(id);
  }
  async deleteLevel(id: string, ctx: RequestContext): Promise<void> {
    if (!(await this.repo.deleteLevel(id))) throw notFound('access level', id);
    auditChange(this.#audit, ctx, 'access.level.delete', `level:${id}`);
    this.#changed();
  }

  async #checkLevel(scheduleId: string, doorIds: readonly string[]): Promise<string[]> {
    if ((await this.#sites.schedule(scheduleId)) === undefined) throw invalid('scheduleId', 'no such schedule');
    const unique = [...new Set(doorIds)].sort();
    if (unique.length > MAX_DOORS_PER_LEVEL) throw invalid('doorIds', `at most ${MAX_DOORS_PER_LEVEL}`);
    for (const d of unique) if ((await this.#sites.door(d)) === undefined) throw invalid('doorIds', `no door ${d}`);
    return unique;
  }
  async #holderView(r: CardholderRow): Promise<CardholderView> {
    return {
      id: r.id, name: r.name, status: r.status as CardholderStatus, validFrom: r.valid_from, validUntil: r.valid_until,
      lockdownOverride: r.lockdown_override === 1, levelIds: (await this.repo.levelIdsOf(r.id)).sort(), createdAt: r.created_at, updatedAt: r.updated_at,
    };
  }
  async #holder(id: string): Promise<CardholderRow> {
    const row = await this.repo.cardholder(id);
    if (row === undefined) throw notFound('cardholder', id);
    return row;
  }
  async #credential(id: string): Promise<CredentialRow> {
    const row = await this.repo.credential(id);
    if (row === undefined) throw notFound('credential', id);
    return row;
  }
  async #level(id: string): Promise<LevelRow> {
    const row = await this.repo.level(id);
    if (row === undefined) throw notFound('access level', id);
    return row;
  }
}
