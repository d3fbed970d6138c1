// ONVIF SOAP endpoints of the camera role (issue #9), on the HTTPS API server only while the
// camera role is enabled. They authenticate with WS-Security UsernameToken inside the message
// (onvif-service.ts, CAM-T-auth-1), so their route access is public; the body is bounded, parsed
// as text here and as hardened XML by the service. Every error, including Fastify's own (size,
// media type, setup not done), is answered as a SOAP 1.2 fault without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { isVigilError } from '../../core/errors.ts';
import { ONVIF_PATHS, SNAPSHOT_PATH, type OnvifEndpoint, type OnvifService } from '../../camera/onvif/onvif-service.ts';
import type { SnapshotEndpoint } from '../../camera/snapshot.ts';
import { SOAP_MAX_BYTES, SoapFault, soapFaultXml } from '../../camera/onvif/soap.ts';
import { access } from '../access.ts';
import type { RouteDeps } from '../services.ts';

const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const SoapBody = Type.String({ maxLength: SOAP_MAX_BYTES });
const SoapResponses = { 200: Type.String(), '4xx': Type.String(), '5xx': Type.String() };

function sendSoap(reply: FastifyReply, status: number, xml: string): FastifyReply {
  return reply.status(status).type(SOAP_CONTENT_TYPE).send(xml);
}

/** Errors raised before the ONVIF service saw the request, as a fault and its HTTP status. */
function asFault(err: FastifyError | Error): { fault: SoapFault; status: number; reason: string } {
  if (isVigilError(err, 'VIGIL_SETUP_REQUIRED')) return { fault: new SoapFault('Receiver', 'ter:Action', 'The device is not set up yet'), status: 503, reason: 'setup-required' };
  const status = isVigilError(err) ? err.status : (err as FastifyError).statusCode;
  if (status === 429) return { fault: new SoapFault('Receiver', 'ter:Action', 'Too many requests; try again later'), status: 429, reason: 'rate-limited' };
  if (status === 413) return { fault: new SoapFault('Sender', 'ter:WellFormed', `Request larger than ${SOAP_MAX_BYTES} bytes`), status: 400, reason: 'too-large' };
  if (status === 415) return { fault: new SoapFault('Sender', 'ter:WellFormed', 'Content type must be application/soap+xml or text/xml'), status: 400, reason: 'media-type' };
  if (status !== undefined && status >= 400 && status < 500) return { fault: new SoapFault('Sender', 'ter:WellFormed', 'Malformed request'), status: 400, reason: 'malformed' };
  return { fault: new SoapFault('Receiver', 'ter:Action', 'Internal error'), status: 500, reason: 'internal' };
}

export function onvifRoutes({ onvif, snapshot }: { onvif: OnvifService; snapshot: SnapshotEndpoint }): (app: FastifyInstance, deps: RouteDeps) => Promise<void> {
  return async (app, deps) => {
    await app.register(soapRoutes(onvif), deps);
    await app.register(snapshotRoute(snapshot), deps);
  };
}

function soapRoutes(onvif: OnvifService): (app: FastifyInstance, deps: RouteDeps) => Promise<void> {
  return async (app, { config, services }) => {
    // Encapsulated: these parsers and this error handler apply to the ONVIF routes only.
    app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string', bodyLimit: SOAP_MAX_BYTES }, (_request, body, done) => done(null, body));
    app.setErrorHandler((err: FastifyError | Error, request, reply) => {
      const { fault, status, reason } = asFault(err);
      if (status >= 500 && status !== 503) request.log.error({ err }, 'ONVIF request failed');
      if (status === 429) reply.header('retry-after', '60');
      // Refused before the service saw it: audited here, so every ONVIF request leaves a trace.
      const target = request.url.startsWith(ONVIF_PATHS.media) ? 'onvif:media' : 'onvif:device';
      services.audit.record({ category: 'video', action: 'onvif.request', actor: 'anonymous', source: request.ip, target, outcome: 'failure', details: { reason } });
      return sendSoap(reply, status, soapFaultXml(fault));
    });
    const limit = { max: config.security.authRateLimitPerMinute, timeWindow: 60_000 };
    for (const endpoint of ['device', 'media'] as const satisfies readonly OnvifEndpoint[]) {
      app.post(ONVIF_PATHS[endpoint], {
        config: { access: access.public(), rateLimit: limit },
        schema: { hide: true, body: SoapBody, response: SoapResponses },
      }, async (request: FastifyRequest, reply: FastifyReply) => {
        const secure = (request.raw.socket as Partial<TLSSocket>).encrypted === true;
        const answer = await onvif.handle(endpoint, request.body as string, { sourceIp: request.ip, secure });
        return sendSoap(reply, answer.status, answer.xml);
      });
    }
  };
}

/**
 * GetSnapshotUri's target: a JPEG of the latest keyframe behind HTTP Digest with the camera's
 * accounts (src/camera/snapshot.ts). Public at the gate because Digest is checked here, like
 * RTSP; refused attempts count towards the shared lockout. The API's own errors (JSON) apply.
 */
function snapshotRoute(snapshot: SnapshotEndpoint): (app: FastifyInstance, deps: RouteDeps) => Promise<void> {
  return async (app, { config }) => {
    app.get(SNAPSHOT_PATH, {
      config: { access: access.public(), rateLimit: { max: config.security.authRateLimitPerMinute, timeWindow: 60_000 } },
      schema: { hide: true, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), 401: Type.Null() } },
    }, async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = await snapshot.handle({
        uri: request.url,
        authorization: request.headers.authorization,
        secure: (request.raw.socket as Partial<TLSSocket>).encrypted === true,
        sourceIp: request.ip,
      });
      if (answer.status === 401) return reply.status(401).header('www-authenticate', answer.challenges).send();
      return reply.type('image/jpeg').send(answer.jpeg);
    });
  };
}
