// Cameras: the rules. URLs without embedded credentials, credentials sealed by the keyring and
// never returned or logged (NVR-5.2.4.1a), RTSPS pinning, recording mode and retention, every
// change audited (NVR-5.2.7.1a). The recorder listens for changes.
import { randomUUID } from 'node:crypto';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Store } from '../../store/database.ts';
import type { RequestContext } from '../../identity/types.ts';
import { CameraRepository, type CameraRow } from './camera-repository.ts';

export const CAMERA_CREDENTIALS_PURPOSE = 'camera.credentials';
export const RECORDING_MODES = ['continuous', 'scheduled', 'off'] as const;
export type RecordingMode = (typeof RECORDING_MODES)[number];
const MAX_CAMERAS = 1000;
const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export interface ScheduleWindow {
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** "HH:MM", local time of the recorder. */
  from: string;
  to: string;
}

export interface CameraInput {
  name: string;
  url: string;
  username?: string;
  password?: string;
  tlsFingerprint256?: string | null;
  /** PEM certificate(s) trusted for this camera's RTSPS (its CA, or its own self-signed certificate). */
  tlsCaPem?: string | null;
  recordingMode?: RecordingMode;
  schedule?: ScheduleWindow[];
  retentionDays?: number;
  enabled?: boolean;
}

export interface CameraView {
  id: string;
  name: string;
  /** rtsp: recorded from its URL by the recorder service; local: this device's own encoder (camera role). */
  source: 'rtsp' | 'local';
  url: string;
  /** Only whether credentials are set: they are never returned. */
  hasCredentials: boolean;
  tlsFingerprint256: string | null;
  tlsCaPem: string | null;
  recordingMode: RecordingMode;
  schedule: ScheduleWindow[];
  retentionDays: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface CameraCredentials {
  username: string;
  password: string;
}

export type CameraChange = { kind: 'created' | 'updated'; camera: CameraView } | { kind: 'deleted'; id: string };

function invalid(field: string, message: string): VigilError {
  return new VigilError('VIGIL_VALIDATION', `${field}: ${message}`, { details: { field } });
}

export function checkCameraUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('url', 'not a URL');
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') throw invalid('url', 'must be rtsp:// or rtsps://');
  if (url.username !== '' || url.password !== '') throw invalid('url', 'must not contain credentials; give username and password separately (they are stored sealed)');
  if (url.hostname === '') throw invalid('url', 'has no host');
  if (url.hash !== '') throw invalid('url', 'must not have a fragment');
  return url;
}

function checkSchedule(windows: ScheduleWindow[]): void {
  if (windows.length > 28) throw invalid('schedule', 'at most 28 windows');
  for (const w of windows) {
    if (w.days.length === 0 || w.days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) throw invalid('schedule', 'days are 0 (Sunday) to 6');
    for (const t of [w.from, w.to]) if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t)) throw invalid('schedule', `time ${t} is not HH:MM`);
  }
}

function view(row: CameraRow): CameraView {
  return {
    id: row.id,
    name: row.name,
    source: 'rtsp',
    url: row.url,
    hasCredentials: row.sealed_credentials !== null,
    tlsFingerprint256: row.tls_fingerprint256,
    tlsCaPem: row.tls_ca_pem,
    recordingMode: row.recording_mode as RecordingMode,
    schedule: JSON.parse(row.schedule) as ScheduleWindow[],
    retentionDays: row.retention_days,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class CameraService {
  readonly #repo: CameraRepository;
  readonly #keyring: Keyring;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #listeners: Array<(change: CameraChange) => void> = [];
  /** The camera role's local recording, listed beside the stored cameras, managed by configuration. */
  #local: CameraView | undefined;

  constructor(o: { store: Store; keyring: Keyring; audit: AuditSink; clock: Clock }) {
    this.#repo = new CameraRepository(o.store.db);
    this.#keyring = o.keyring;
    this.#audit = o.audit;
    this.#clock = o.clock;
  }

  onChange(listener: (change: CameraChange) => void): void {
    this.#listeners.push(listener);
  }

  /** Lists (and lets the API read, play back, export and watch) the device's own local recording. */
  setLocal(camera: CameraView | undefined): void {
    this.#local = camera;
  }

  async list(visible: 'all' | ReadonlySet<string> = 'all'): Promise<CameraView[]> {
    const rows = (await this.#repo.list(MAX_CAMERAS)).map(view);
    if (this.#local !== undefined) rows.push(this.#local);
    return rows.filter((c) => visible === 'all' || visible.has(c.id));
  }

  async get(id: string): Promise<CameraView> {
    if (id === this.#local?.id) return this.#local;
    return view(await this.#row(id));
  }

  async create(input: CameraInput, ctx: RequestContext): Promise<CameraView> {
    this.#check(input);
    if ((await this.#repo.list(MAX_CAMERAS)).length >= MAX_CAMERAS) throw new VigilError('VIGIL_CONFLICT', `at most ${MAX_CAMERAS} cameras`);
    if ((await this.#repo.byName(input.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a camera named ${input.name} exists`);
    const id = randomUUID();
    const now = this.#clock.now();
    const row: CameraRow = {
      id,
      name: input.name,
      url: checkCameraUrl(input.url).toString(),
      sealed_credentials: await this.#sealCredentials(id, input),
      tls_fingerprint256: input.tlsFingerprint256 ?? null,
      tls_ca_pem: input.tlsCaPem ?? null,
      recording_mode: input.recordingMode ?? 'continuous',
      schedule: JSON.stringify(input.schedule ?? []),
      retention_days: input.retentionDays ?? 30,
      enabled: input.enabled === false ? 0 : 1,
      created_at: now,
      updated_at: now,
    };
    await this.#repo.insert(row);
    this.#record(ctx, 'camera.create', id, { name: row.name, mode: row.recording_mode });
    return this.#emit('created', row);
  }

  async update(id: string, patch: Partial<CameraInput>, ctx: RequestContext): Promise<CameraView> {
    this.#notLocal(id);
    const current = await this.#row(id);
    const merged: CameraInput = { ...view(current), ...patch };
    this.#check(merged);
    if (patch.name !== undefined && patch.name !== current.name && (await this.#repo.byName(patch.name)) !== undefined) throw new VigilError('VIGIL_CONFLICT', `a camera named ${patch.name} exists`);
    const changes: Partial<CameraRow> = { updated_at: this.#clock.now() };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.url !== undefined) changes.url = checkCameraUrl(patch.url).toString();
    if (patch.username !== undefined || patch.password !== undefined) changes.sealed_credentials = await this.#sealCredentials(id, patch);
    if (patch.tlsFingerprint256 !== undefined) changes.tls_fingerprint256 = patch.tlsFingerprint256;
    if (patch.tlsCaPem !== undefined) changes.tls_ca_pem = patch.tlsCaPem;
    if (patch.recordingMode !== undefined) changes.recording_mode = patch.recordingMode;
    if (patch.schedule !== undefined) changes.schedule = JSON.stringify(patch.schedule);
    if (patch.retentionDays !== undefined) changes.retention_days = patch.retentionDays;
    if (patch.enabled !== undefined) changes.enabled = patch.enabled ? 1 : 0;
    await this.#repo.update(id, changes);
    // Which fields changed, never their values (credentials).
    this.#record(ctx, 'camera.update', id, { fields: Object.keys(patch).sort().join(',') });
    return this.#emit('updated', await this.#row(id));
  }

  async delete(id: string, ctx: RequestContext): Promise<void> {
    this.#notLocal(id);
    if (!(await this.#repo.delete(id))) throw new VigilError('VIGIL_NOT_FOUND', `no camera ${id}`);
    this.#record(ctx, 'camera.delete', id, {});
    for (const l of this.#listeners) l({ kind: 'deleted', id });
  }

  /** For the recorder only: the camera's credentials in clear, or null. Never logged. */
  async credentials(id: string): Promise<CameraCredentials | null> {
    const row = await this.#row(id);
    if (row.sealed_credentials === null) return null;
    const plain = await this.#keyring.open(CAMERA_CREDENTIALS_PURPOSE, row.sealed_credentials, id);
    try {
      return JSON.parse(plain.toString('utf8')) as CameraCredentials;
    } finally {
      plain.fill(0);
    }
  }

  #check(input: CameraInput): void {
    if (!/^[\p{L}\p{N} ._-]{1,64}$/u.test(input.name)) throw invalid('name', '1-64 letters, digits, space, . _ -');
    const url = checkCameraUrl(input.url);
    if ((input.username === undefined) !== (input.password === undefined)) throw invalid('username', 'username and password go together');
    if (input.username !== undefined && input.username.length > 128) throw invalid('username', 'at most 128 characters');
    if (input.password !== undefined && input.password.length > 256) throw invalid('password', 'at most 256 characters');
    if (input.tlsFingerprint256 !== undefined && input.tlsFingerprint256 !== null) {
      if (!FINGERPRINT.test(input.tlsFingerprint256)) throw invalid('tlsFingerprint256', 'SHA-256 fingerprint as AA:BB:… (32 bytes)');
      if (url.protocol !== 'rtsps:') throw invalid('tlsFingerprint256', 'a certificate pin needs an rtsps:// URL');
    }
    if (input.tlsCaPem !== undefined && input.tlsCaPem !== null) {
      if (url.protocol !== 'rtsps:') throw invalid('tlsCaPem', 'a trusted certificate needs an rtsps:// URL');
      if (!/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(input.tlsCaPem)) throw invalid('tlsCaPem', 'PEM certificate(s)');
    }
    if (input.retentionDays !== undefined && (!Number.isInteger(input.retentionDays) || input.retentionDays < 1 || input.retentionDays > 3650)) throw invalid('retentionDays', '1 to 3650');
    if (input.recordingMode !== undefined && !RECORDING_MODES.includes(input.recordingMode)) throw invalid('recordingMode', RECORDING_MODES.join(' | '));
    if (input.schedule !== undefined) checkSchedule(input.schedule);
    if (input.recordingMode === 'scheduled' && (input.schedule ?? []).length === 0) throw invalid('schedule', 'scheduled recording needs at least one window');
  }

  async #sealCredentials(id: string, input: Partial<CameraInput>): Promise<Buffer | null> {
    if (input.username === undefined || input.password === undefined || input.password === '') return null;
    return this.#keyring.seal(CAMERA_CREDENTIALS_PURPOSE, JSON.stringify({ username: input.username, password: input.password }), id);
  }

  #notLocal(id: string): void {
    if (id === this.#local?.id) throw new VigilError('VIGIL_CONFLICT', 'the local recording is set in the configuration (camera.localRecording), not through the camera list');
  }

  async #row(id: string): Promise<CameraRow> {
    const row = await this.#repo.get(id);
    if (row === undefined) throw new VigilError('VIGIL_NOT_FOUND', `no camera ${id}`);
    return row;
  }

  #emit(kind: 'created' | 'updated', row: CameraRow): CameraView {
    const camera = view(row);
    for (const l of this.#listeners) l({ kind, camera });
    return camera;
  }

  #record(ctx: RequestContext, action: string, id: string, details: Record<string, string>): void {
    this.#audit.record({ category: 'video', action, actor: ctx.actor === undefined ? 'system' : `user:${ctx.actor.username}`, source: ctx.sourceIp, target: `camera:${id}`, outcome: 'success', details });
  }
}
