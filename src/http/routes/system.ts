// System information (ACS-5.2.2.10), declared services, the OpenAPI document, health, and the
// device certificate.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';

const Info = Type.Object({
  name: Type.String(),
  model: Type.String(),
  version: Type.String(),
  deviceName: Type.String(),
  transports: Type.Array(Type.String()),
  tls: Type.Object({ fingerprint256: Type.String(), selfSigned: Type.Boolean(), notAfter: Type.String() }),
});

const Service = Type.Object({
  id: Type.String(),
  protocol: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  application: Type.String(),
  authentication: Type.String(),
});

const CertificateBody = Type.Object(
  { certificatePem: Type.String({ minLength: 1, maxLength: 65_536 }), privateKeyPem: Type.String({ minLength: 1, maxLength: 65_536 }) },
  { additionalProperties: false },
);

export async function systemRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  // Health discloses nothing but liveness to the unauthenticated (ACS-5.4.1.3).
  app.get('/api/v1/health', {
    config: { access: access.setup() },
    schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/api/v1/system/info', {
    config: { access: access.permission('system.read') },
    schema: { response: { 200: Info, '4xx': ErrorBody } },
  }, async () => {
    const tls = services.tls.current();
    return {
      ...services.product,
      transports: [...services.product.transports],
      tls: { fingerprint256: tls.fingerprint256, selfSigned: tls.selfSigned, notAfter: tls.notAfter.toISOString() },
    };
  });

  app.get('/api/v1/system/services', {
    config: { access: access.permission('system.read') },
    schema: { response: { 200: Type.Object({ services: Type.Array(Service) }), '4xx': ErrorBody } },
  }, async () => ({ services: services.listening() }));

  app.get('/api/v1/openapi.json', {
    config: { access: access.permission('system.read') },
    schema: { hide: true, response: { 200: Type.Object({}, { additionalProperties: true }), '4xx': ErrorBody } },
  }, async () => app.swagger() as unknown as Record<string, unknown>);

  app.put<{ Body: Static<typeof CertificateBody> }>('/api/v1/system/tls-certificate', {
    config: { access: access.permission('system.manage') },
    schema: { body: CertificateBody, response: { 200: Info.properties.tls, '4xx': ErrorBody } },
  }, async (request) => {
    const installed = await services.tls.install(request.body.certificatePem, request.body.privateKeyPem);
    services.audit.record({
      category: 'config',
      action: 'tls.certificate.install',
      actor: `user:${request.principal?.username ?? 'unknown'}`,
      source: request.ip,
      target: 'tls:device',
      outcome: 'success',
      details: { fingerprint256: installed.fingerprint256 },
    });
    return { fingerprint256: installed.fingerprint256, selfSigned: installed.selfSigned, notAfter: installed.notAfter.toISOString() };
  });
}
