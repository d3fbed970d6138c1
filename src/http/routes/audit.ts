// The security event log API (ACS-5.6.1.17): read, verify, export. Read-only: there is no route
// that changes or deletes an event, for any role (NVR-5.2.7.1b, ACS-5.6.1.7/11).
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { actorOf } from './common.ts';

const Event = Type.Object({
  seq: Type.Integer(),
  ts: Type.String(),
  category: Type.String(),
  action: Type.String(),
  actor: Type.String(),
  source: Type.String(),
  target: Type.String(),
  outcome: Type.String(),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  prev_hash: Type.String(),
  hash: Type.String(),
});
const Filter = {
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  actor: Type.Optional(Type.String({ maxLength: 200 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  category: Type.Optional(Type.String({ maxLength: 32 })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
};
const ListQuery = Type.Object(
  {
    ...Filter,
    afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    order: Type.Optional(Type.Union([Type.Literal('newest'), Type.Literal('oldest')])),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(Filter, { additionalProperties: false });
const Problem = Type.Object({ seq: Type.Integer(), kind: Type.String(), message: Type.String() });
const Verification = Type.Object({
  ok: Type.Boolean(),
  checkedEvents: Type.Integer(),
  firstSeq: Type.Union([Type.Integer(), Type.Null()]),
  lastSeq: Type.Union([Type.Integer(), Type.Null()]),
  problems: Type.Array(Problem),
});
const Status = Type.Object({
  health: Type.Object({ ok: Type.Boolean(), queued: Type.Integer(), dropped: Type.Integer(), lastError: Type.Optional(Type.String()) }),
  capacity: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean()])),
  publicKeyPem: Type.String(),
});
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function auditRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/audit/events', {
    config: { access: access.permission('audit.read') },
    schema: { querystring: ListQuery, response: { 200: Type.Object({ events: Type.Array(Event) }), ...Errors } },
  }, async (request) => ({ events: await services.auditQuery.list(request.query) }));

  app.get('/api/v1/audit/verify', {
    config: { access: access.permission('audit.read') },
    schema: { response: { 200: Verification, ...Errors } },
  }, async (request) => {
    const result = await services.verifyAudit();
    services.audit.record({
      category: 'audit', action: 'audit.verify', actor: actorOf(request), source: request.ip, target: 'audit-log',
      outcome: result.ok ? 'success' : 'failure', details: { checkedEvents: result.checkedEvents, problems: result.problems.length },
    });
    return result;
  });

  app.get('/api/v1/audit/status', {
    config: { access: access.permission('audit.read') },
    schema: { response: { 200: Status, ...Errors } },
  }, async () => {
    const capacity = await services.audit.capacity();
    return { health: services.audit.health(), capacity: { ...capacity }, publicKeyPem: services.devicePublicKeyPem };
  });

  // Signed JSONL (ACS-5.6.1.6/16): verifiable offline with the device public key.
  app.get<{ Querystring: Static<typeof ExportQuery> }>('/api/v1/audit/export', {
    config: { access: access.permission('audit.export') },
    schema: { querystring: ExportQuery, response: { 200: Type.String(), ...Errors } },
  }, async (request, reply) => {
    services.audit.record({
      category: 'audit', action: 'audit.export', actor: actorOf(request), source: request.ip, target: 'audit-log', outcome: 'success',
      details: { from: request.query.from ?? null, to: request.query.to ?? null },
    });
    await services.audit.flush();
    const lines = services.exportAudit(request.query);
    const body = Readable.from((async function* () {
      for await (const line of lines) yield line + '\n';
    })());
    return reply
      .type('application/x-ndjson')
      .header('content-disposition', `attachment; filename="vigil-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl"`)
      .send(body);
  });
}
