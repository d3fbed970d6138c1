// Storage health (NVR-5.1.5.2a/b mirror and hot spare, NVR-5.2.8.1a free space against the
// threshold): what the recording volumes are doing, for the Storage page. Read with system.read
// (health, as the roles matrix says); where a volume sits on the file system is configuration
// and is shown only to those who may change it (system.manage).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { authorize } from '../../identity/principal.ts';
import { principalOf } from './common.ts';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Volume = Type.Object({
  id: Type.String(),
  path: Type.Optional(Type.String()),
  role: Type.Union([Type.Literal('mirror'), Type.Literal('spare')]),
  state: Type.Union([Type.Literal('online'), Type.Literal('spare'), Type.Literal('rebuilding'), Type.Literal('failed')]),
  inMirror: Type.Boolean(),
  totalBytes: NullableNumber,
  freeBytes: NullableNumber,
  freePercent: NullableNumber,
  lowSpace: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  since: Type.String(),
  segments: Type.Integer(),
  segmentBytes: Type.Number(),
});
const Storage = Type.Object({
  mirror: Type.Object({
    state: Type.Union([Type.Literal('healthy'), Type.Literal('rebuilding'), Type.Literal('degraded'), Type.Literal('failed')]),
    redundant: Type.Boolean(),
    copies: Type.Integer(),
    online: Type.Integer(),
    rebuilding: Type.Integer(),
    spares: Type.Integer(),
    failed: Type.Integer(),
  }),
  freeSpaceWarnPercent: Type.Integer(),
  healthCheckSeconds: Type.Integer(),
  volumes: Type.Array(Volume),
});

export async function storageRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/api/v1/storage', {
    config: { access: access.permission('system.read') },
    schema: { response: { 200: Storage, '4xx': ErrorBody, '5xx': ErrorBody } },
  }, async (request) => {
    const showPaths = authorize(principalOf(request), 'system.manage');
    const health = await services.video.health();
    return {
      ...health,
      volumes: health.volumes.map(({ path, since, ...v }) => ({ ...v, since: new Date(since).toISOString(), ...(showPaths ? { path } : {}) })),
    };
  });
}
