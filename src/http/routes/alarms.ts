// Alarms: list (the live mirror too, so an alarm is shown even while the database fails —
// NVR-5.2.7.2a), acknowledge with a comment, clear.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { Empty, IdParam, actorOf } from './common.ts';

const Alarm = Type.Object({
  id: Type.String(),
  type: Type.String(),
  severity: Type.String(),
  source: Type.String(),
  message: Type.String(),
  state: Type.String(),
  raisedAt: Type.String(),
  acknowledgedAt: Type.Union([Type.String(), Type.Null()]),
  acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
  ackComment: Type.Union([Type.String(), Type.Null()]),
  clearedAt: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
});
const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('acknowledged'), Type.Literal('cleared')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const AckBody = Type.Object({ comment: Type.String({ maxLength: 1000 }) }, { additionalProperties: false });
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function alarmRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const { alarms } = services;

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/alarms', {
    config: { access: access.permission('alarms.read') },
    schema: { querystring: ListQuery, response: { 200: Type.Object({ alarms: Type.Array(Alarm) }), ...Errors } },
  }, async (request) => ({ alarms: (await alarms.list(request.query)).map(alarmView) }));

  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof AckBody> }>('/api/v1/alarms/:id/acknowledge', {
    config: { access: access.permission('alarms.acknowledge') },
    schema: { params: IdParam, body: AckBody, response: { 200: Alarm, ...Errors } },
  }, async (request) => alarmView(await alarms.acknowledge(request.params.id, { by: actorOf(request), comment: request.body.comment })));

  app.post<{ Params: Static<typeof IdParam> }>('/api/v1/alarms/:id/clear', {
    config: { access: access.permission('alarms.acknowledge') },
    schema: { body: Empty, params: IdParam, response: { 200: Alarm, ...Errors } },
  }, async (request) => alarmView(await alarms.clearById(request.params.id, actorOf(request))));
}

type AlarmRecord = Awaited<ReturnType<RouteDeps['services']['alarms']['list']>>[number];

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function alarmView(a: AlarmRecord): Static<typeof Alarm> {
  return {
    id: a.id,
    type: a.type,
    severity: a.severity,
    source: a.source,
    message: a.message,
    state: a.state,
    raisedAt: new Date(a.raisedAt).toISOString(),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    ackComment: a.ackComment,
    clearedAt: iso(a.clearedAt),
    details: a.details,
  };
}
