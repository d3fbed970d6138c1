// ONVIF SOAP endpoints of the camera role (issue #9), on the HTTPS API server only while the
// camera role is enabled. They authenticate with WS-Security UsernameToken inside the message
// (onvif-service.ts, CAM-T-auth-1), so their route access is public; the body is bounded, parsed
// as text here and as hardened XML by the service. Every error, including Fastify's own (size,
// media type, setup not done), is answered as a SOAP 1.2 fault without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { isVigilError } from '../../core/errors.ts';
import { ONVIF_PATHS, type OnvifEndpoint, type OnvifService } from '../../camera/onvif/onvif-service.ts';
import { SOAP_MAX_BYTES, SoapFault, soapFaultXml } from '../../camera/onvif/soap.ts';
import { access } from '../access.ts';
import type { RouteDeps } from '../services.ts';

const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';
const SoapBody = Type.String({ maxLength: SOAP_MAX_BYTES });
const SoapResponses = { 200: Type.String(), '4xx': Type.String(), '5xx': Type.String() };

function sendSoap(reply: FastifyReply, status: number, xml: string): FastifyReply {
  return reply.status(status).type(SOAP_CONTENT_TYPE).send(xml);
}

function asFault(err: FastifyError | Error): SoapFault {
  if (isVigilError(err, 'VIGIL_SETUP_REQUIRED')) return new SoapFault('Receiver', 'ter:Action', 'The device is not set up yet');
  if (isVigilError(err, 'VIGIL_RATE_LIMITED') || (err as FastifyError).statusCode === 429) return new SoapFault('Receiver', 'ter:Action', 'Too many requests; try again later');
  const status = (err as FastifyError).statusCode;
  if (status === 413) return new SoapFault('Sender', 'ter:WellFormed', `Request larger than ${SOAP_MAX_BYTES} bytes`);
  if (status === 415) return new SoapFault('Sender', 'ter:WellFormed', 'Content type must be application/soap+xml or text/xml');
  if (status !== undefined && status >= 400 && status < 500) return new SoapFault('Sender', 'ter:WellFormed', 'Malformed request');
  return new SoapFault('Receiver', 'ter:Action', 'Internal error');
}

export function onvifRoutes(onvif: OnvifService): (app: FastifyInstance, deps: RouteDeps) => Promise<void> {
  return async (app, { config }) => {
    // Encapsulated: these parsers and this error handler apply to the ONVIF routes only.
    app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string', bodyLimit: SOAP_MAX_BYTES }, (_request, body, done) => done(null, body));
    app.setErrorHandler((err: FastifyError | Error, request, reply) => {
      const f = asFault(err);
      if (f.httpStatus >= 500) request.log.error({ err }, 'ONVIF request failed');
      if (f.subcode === 'ter:Action' && (err as FastifyError).statusCode === 429) reply.header('retry-after', '60');
      return sendSoap(reply, f.httpStatus, soapFaultXml(f));
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
