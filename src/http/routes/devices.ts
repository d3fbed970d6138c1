// Device enrolment over HTTPS (ACS-5.1.1.11): an edge device (door controller, lock) presents its
// one-time token, its new public key and a signature over the token with that key. Public — the
// token is the credential — but rate-limited like a login, and every refusal looks the same
// (the service audits the reason). The answer adds the port of the device sync listener.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';

const EnrolBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 128 }),
    publicKeyPem: Type.String({ minLength: 1, maxLength: 4096 }),
    proof: Type.String({ minLength: 1, maxLength: 512 }),
  },
  { additionalProperties: false },
);

const EnrolAnswer = Type.Object({
  deviceId: Type.String(),
  kind: Type.String(),
  certPem: Type.String(),
  caCertPem: Type.String(),
  platformKeyPem: Type.String(),
  syncPort: Type.Union([Type.Integer(), Type.Null()]),
});

const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function deviceRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  const devices = services.devices;
  if (devices === undefined) return;
  const limit = { max: config.security.authRateLimitPerMinute, timeWindow: 60_000 };

  app.post<{ Body: Static<typeof EnrolBody> }>('/api/v1/devices/enrol', {
    config: { access: access.public(), rateLimit: limit },
    schema: { body: EnrolBody, response: { 200: EnrolAnswer, ...Errors } },
  }, async (request) => {
    const result = await devices.enrolment.enrol({ ...request.body, source: request.ip });
    return { deviceId: result.deviceId, kind: result.kind, certPem: result.certPem, caCertPem: result.caCertPem, platformKeyPem: result.platformKeyPem, syncPort: devices.syncPort() };
  });
}
