// Cameras and their recordings (NVR-5.2.4.1a: credentials write-only; per-camera permissions
// enforced by the one access gate, NVR-5.4.3.1a; every change audited by the service).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { isVigilError } from '../../core/errors.ts';
import { scopedIds } from '../../identity/permissions.ts';
import { RECORDING_MODES } from '../../video/cameras/camera-service.ts';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { Empty, Nullable, Ok, actorOf, principalOf, requestContext } from './common.ts';
import { playbackClip, type Clip } from '../../video/playback.ts';
import type { PreparedEvidence } from '../../video/export/evidence-export.ts';
import { MIN_BUNDLE_PASSWORD_LENGTH } from '../../video/export/evidence-format.ts';

export const CameraId = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const Window = Type.Object(
  { days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 }), from: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }), to: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }) },
  { additionalProperties: false },
);
export const Mode = Type.Union(RECORDING_MODES.map((m) => Type.Literal(m)));
const Fingerprint = Nullable(Type.String({ pattern: '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' }));
const CameraFields = {
  name: Type.String({ minLength: 1, maxLength: 64 }),
  url: Type.String({ minLength: 8, maxLength: 1024 }),
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  tlsFingerprint256: Fingerprint,
  tlsCaPem: Nullable(Type.String({ minLength: 1, maxLength: 65_536 })),
  recordingMode: Mode,
  schedule: Type.Array(Window, { maxItems: 28 }),
  retentionDays: Type.Integer({ minimum: 1, maximum: 3650 }),
  enabled: Type.Boolean(),
};
const NewCamera = Type.Object(
  {
    name: CameraFields.name,
    url: CameraFields.url,
    username: Type.Optional(CameraFields.username),
    password: Type.Optional(CameraFields.password),
    tlsFingerprint256: Type.Optional(CameraFields.tlsFingerprint256),
    tlsCaPem: Type.Optional(CameraFields.tlsCaPem),
    recordingMode: Type.Optional(CameraFields.recordingMode),
    schedule: Type.Optional(CameraFields.schedule),
    retentionDays: Type.Optional(CameraFields.retentionDays),
    enabled: Type.Optional(CameraFields.enabled),
  },
  { additionalProperties: false },
);
const CameraPatch = Type.Partial(NewCamera, { additionalProperties: false, minProperties: 1 });
export const Camera = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** rtsp: recorded from its URL; local: this device's own encoder (camera role, set in the configuration). */
  source: Type.Union([Type.Literal('rtsp'), Type.Literal('local')]),
  url: Type.String(),
  hasCredentials: Type.Boolean(),
  tlsFingerprint256: Fingerprint,
  tlsCaPem: Type.Union([Type.String(), Type.Null()]),
  recordingMode: Mode,
  schedule: Type.Array(Window),
  retentionDays: Type.Integer(),
  enabled: Type.Boolean(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const RangeQuery = Type.Object(
  { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) },
  { additionalProperties: false },
);
const ExportBody = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    password: Type.Optional(Type.String({ minLength: MIN_BUNDLE_PASSWORD_LENGTH, maxLength: 256 })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
const Segment = Type.Object({
  id: Type.String(),
  state: Type.String(),
  startedAt: Type.String(),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  fragments: Type.Integer(),
  bytes: Type.Integer(),
  volumes: Type.Array(Type.String()),
});
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const CameraHealthView = Type.Object({
  id: Type.String(),
  /** stopped: not recording now (disabled, or outside its schedule). */
  state: Type.Union([Type.Literal('recording'), Type.Literal('connecting'), Type.Literal('signal-lost'), Type.Literal('stopped')]),
  fps: Type.Number(),
  bitrateKbps: Type.Integer(),
  lastFrameAt: Type.Union([Type.String(), Type.Null()]),
});

export function cameraScope(request: FastifyRequest): { kind: 'camera'; id: string } {
  return { kind: 'camera', id: (request.params as { id: string }).id };
}

export async function cameraRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const { cameras, video } = services;

  app.get('/api/v1/cameras', {
    config: { access: access.permission('camera.view') },
    schema: { response: { 200: Type.Object({ cameras: Type.Array(Camera) }), ...Errors } },
  }, async (request) => ({ cameras: await cameras.list(scopedIds(principalOf(request).grants, 'camera.view', 'camera')) }));

  // Camera health for operators (issue #8): state, frame and bit rates of the last seconds, last frame.
  app.get('/api/v1/cameras/health', {
    config: { access: access.permission('camera.view') },
    schema: { response: { 200: Type.Object({ cameras: Type.Array(CameraHealthView) }), ...Errors } },
  }, async (request) => {
    const running = services.recording();
    const visible = await cameras.list(scopedIds(principalOf(request).grants, 'camera.view', 'camera'));
    return {
      cameras: visible.map((c) => {
        const h = running.get(c.id);
        return h === undefined
          ? { id: c.id, state: 'stopped' as const, fps: 0, bitrateKbps: 0, lastFrameAt: null }
          : { id: c.id, ...h, lastFrameAt: h.lastFrameAt === null ? null : new Date(h.lastFrameAt).toISOString() };
      }),
    };
  });

  app.post<{ Body: Static<typeof NewCamera> }>('/api/v1/cameras', {
    config: { access: access.permission('camera.manage') },
    schema: { body: NewCamera, response: { 201: Camera, ...Errors } },
  }, async (request, reply) => reply.status(201).send(await cameras.create(request.body, requestContext(request))));

  app.get<{ Params: Static<typeof CameraId> }>('/api/v1/cameras/:id', {
    config: { access: access.permission('camera.view', cameraScope) },
    schema: { params: CameraId, response: { 200: Camera, ...Errors } },
  }, async (request) => cameras.get(request.params.id));

  app.patch<{ Params: Static<typeof CameraId>; Body: Static<typeof CameraPatch> }>('/api/v1/cameras/:id', {
    config: { access: access.permission('camera.manage', cameraScope) },
    schema: { params: CameraId, body: CameraPatch, response: { 200: Camera, ...Errors } },
  }, async (request) => cameras.update(request.params.id, request.body, requestContext(request)));

  app.delete<{ Params: Static<typeof CameraId> }>('/api/v1/cameras/:id', {
    config: { access: access.permission('camera.manage', cameraScope) },
    schema: { params: CameraId, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await cameras.delete(request.params.id, requestContext(request));
    return { ok: true as const };
  });

  app.get<{ Params: Static<typeof CameraId>; Querystring: Static<typeof RangeQuery> }>('/api/v1/cameras/:id/recordings', {
    config: { access: access.permission('camera.playback', cameraScope) },
    schema: { params: CameraId, querystring: RangeQuery, response: { 200: Type.Object({ segments: Type.Array(Segment) }), ...Errors } },
  }, async (request) => {
    await cameras.get(request.params.id);
    const rows = await video.catalog.overlapping(request.params.id, Date.parse(request.query.from), Date.parse(request.query.to), request.query.limit ?? 1000);
    return {
      segments: rows.map((r) => ({
        id: r.id,
        state: r.state,
        startedAt: new Date(r.started_at).toISOString(),
        endedAt: r.ended_at === null ? null : new Date(r.ended_at).toISOString(),
        fragments: r.fragments,
        bytes: r.bytes,
        volumes: JSON.parse(r.volumes) as string[],
      })),
    };
  });

  // NVR-5.2.7.1a: every playback is audited with who, which camera and which range.
  app.get<{ Params: Static<typeof CameraId>; Querystring: Static<typeof RangeQuery> }>('/api/v1/cameras/:id/playback', {
    config: { access: access.permission('camera.playback', cameraScope) },
    schema: { params: CameraId, querystring: RangeQuery, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...Errors } },
  }, async (request, reply) => {
    await cameras.get(request.params.id);
    const from = Date.parse(request.query.from);
    const to = Date.parse(request.query.to);
    const audit = { category: 'video' as const, action: 'video.playback', actor: actorOf(request), source: request.ip, target: `camera:${request.params.id}` };
    let clip: Clip;
    try {
      clip = await playbackClip(video, request.params.id, from, to);
    } catch (err) {
      services.audit.record({ ...audit, outcome: 'failure', details: { from: request.query.from, to: request.query.to } });
      throw err;
    }
    services.audit.record({ ...audit, outcome: 'success', details: { from: new Date(clip.startedAt).toISOString(), to: new Date(clip.endedAt).toISOString(), fragments: clip.fragments } });
    return reply
      .header('content-type', 'video/mp4')
      .header('content-disposition', 'inline; filename="playback.mp4"')
      .header('x-vigil-clip-start', new Date(clip.startedAt).toISOString())
      .header('x-vigil-clip-end', new Date(clip.endedAt).toISOString())
      .send(Buffer.concat(clip.parts));
  });

  // NVR-5.2.7.1a: a signed evidence bundle, streamed (the plain video never touches the disk);
  // the export, with who, what range, why and the bundle's SHA-256, is audited when it ends.
  app.post<{ Params: Static<typeof CameraId>; Body: Static<typeof ExportBody> }>('/api/v1/cameras/:id/export', {
    config: { access: access.permission('camera.export', cameraScope) },
    schema: { params: CameraId, body: ExportBody, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...Errors } },
  }, async (request, reply) => {
    const camera = await cameras.get(request.params.id);
    const { from, to, password, reason } = request.body;
    const audit = { category: 'video' as const, action: 'video.export', actor: actorOf(request), source: request.ip, target: `camera:${camera.id}` };
    const details = { from, to, reason: reason ?? null, encrypted: password !== undefined };
    let prepared: PreparedEvidence;
    try {
      prepared = await services.exportEvidence({
        camera: { id: camera.id, name: camera.name }, from: Date.parse(from), to: Date.parse(to), exportedBy: actorOf(request),
        ...(password === undefined ? {} : { password }), ...(reason === undefined ? {} : { reason }),
      });
    } catch (err) {
      services.audit.record({ ...audit, outcome: 'failure', details: { ...details, error: isVigilError(err) ? err.code : 'VIGIL_INTERNAL' } });
      throw err;
    }
    const body = async function* (): AsyncGenerator<Uint8Array> {
      try {
        yield* prepared.stream();
      } catch (err) {
        services.audit.record({ ...audit, outcome: 'failure', details: { ...details, exportId: prepared.exportId, error: isVigilError(err) ? err.code : 'VIGIL_INTERNAL' } });
        throw err;
      }
      services.audit.record({ ...audit, outcome: 'success', details: { ...details, ...prepared.summary() } });
    };
    return reply
      .header('content-type', password === undefined ? 'application/zip' : 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${prepared.filename}"`)
      .header('x-vigil-export-id', prepared.exportId)
      .header('x-vigil-export-estimated-bytes', String(prepared.estimatedBytes))
      .send(Readable.from(body()));
  });

  app.post<{ Params: Static<typeof CameraId> }>('/api/v1/cameras/:id/verify', {
    config: { access: access.permission('camera.manage', cameraScope) },
    schema: { params: CameraId, body: Empty, response: { 200: Type.Object({ checked: Type.Integer(), failed: Type.Array(Type.Object({ segment: Type.String(), problems: Type.Array(Type.String()) })) }), ...Errors } },
  }, async (request) => {
    const rows = await video.catalog.chain(request.params.id, 0, 100_000);
    const failed: Array<{ segment: string; problems: string[] }> = [];
    for (const row of rows) {
      const result = await video.verifySegment(row.id);
      if (!result.ok) failed.push({ segment: row.id, problems: result.problems.map((p) => (p.volume === '' ? p.message : `${p.volume}: ${p.message}`)) });
    }
    return { checked: rows.length, failed };
  });
}
