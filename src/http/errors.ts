// The one error handler: maps every error to `{ error: { code, message } }` with a stable code.
// Unknown errors become VIGIL_INTERNAL with no internals in the body (ACS-5.2.1.7); the full
// error goes to the log only.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { VigilError } from '../core/errors.ts';

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | VigilError | Error, request, reply) => {
    const mapped = toVigilError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: mapped.code, url: request.url }, 'request refused');
    const body: { error: { code: string; message: string; details?: Record<string, unknown> } } = {
      error: { code: mapped.code, message: mapped.message },
    };
    if (mapped.details !== undefined) body.error.details = { ...mapped.details };
    if (mapped.code === 'VIGIL_RATE_LIMITED') reply.header('retry-after', '60');
    if (isWebSocketUpgrade(request)) return refuseUpgrade(request, reply, mapped.status, body);
    return reply.status(mapped.status).type('application/json').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ error: { code: 'VIGIL_NOT_FOUND', message: `no such resource: ${request.method} ${request.url.split('?')[0]}` } });
  });
}

function toVigilError(err: FastifyError | VigilError | Error): VigilError {
  if (err instanceof VigilError) return err;
  const fe = err as FastifyError;
  if (fe.validation !== undefined) {
    return new VigilError('VIGIL_VALIDATION', `invalid request: ${fe.message}`);
  }
  if (fe.statusCode === 429) return new VigilError('VIGIL_RATE_LIMITED', 'too many requests; try again later');
  if (fe.statusCode === 413) return new VigilError('VIGIL_PAYLOAD_TOO_LARGE', 'request body too large');
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (bad JSON, unsupported media type...): safe to describe.
    return new VigilError('VIGIL_VALIDATION', fe.message);
  }
  return new VigilError('VIGIL_INTERNAL', 'internal error');
}

function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return String(request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/**
 * A refused WebSocket handshake (401/403 from the access gate): written to the socket and ended
 * gracefully, because the WebSocket plugin destroys an upgrade socket once a normal reply has
 * finished — before TLS has flushed it, so the client saw a reset instead of the status.
 */
function refuseUpgrade(request: FastifyRequest, reply: FastifyReply, status: number, body: object): void {
  const json = JSON.stringify(body);
  reply.hijack();
  request.raw.socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${json}`,
  );
}
