// Adding a camera by ONVIF with TLS trust on first use (issue #9; CAM-T-auth-2/3): probe (the
// certificate, nothing sent), inspect (ONVIF over the pinned connection), add (camera created
// with the pin), and re-pinning an existing camera. camera.manage, like creating a camera; the
// service audits every step with the fingerprints. The device's own refusals are 4xx/5xx codes
// of their own (VIGIL_ONVIF_*), never 401/403, which belong to the caller's session.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { requestContext } from './common.ts';
import { Camera, CameraId, Mode, cameraScope } from './cameras.ts';

const FingerprintIn = Type.String({ pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$', maxLength: 95 });
const Address = Type.String({ minLength: 1, maxLength: 512 });
const Certificate = Type.Object({
  fingerprint256: Type.String(),
  subject: Type.String(),
  issuer: Type.String(),
  validFrom: Type.String(),
  validTo: Type.String(),
  selfSigned: Type.Boolean(),
  publiclyTrusted: Type.Boolean(),
  pinnable: Type.Boolean(),
});
const Stream = Type.Object({ url: Type.String(), secure: Type.Boolean(), certificate: Type.Union([Certificate, Type.Null()]), sameCertificateAsDevice: Type.Boolean() });
const InspectFields = {
  address: Address,
  fingerprint256: FingerprintIn,
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  profileToken: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
};
const InspectBody = Type.Object(InspectFields, { additionalProperties: false });
const AddBody = Type.Object(
  {
    ...InspectFields,
    name: Type.String({ minLength: 1, maxLength: 64 }),
    streamFingerprint256: Type.Optional(FingerprintIn),
    acceptUnencrypted: Type.Optional(Type.Boolean()),
    recordingMode: Type.Optional(Mode),
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function cameraOnvifRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const enrolment = services.onvifEnrolment;

  app.post<{ Body: { address: string } }>('/api/v1/cameras/onvif/probe', {
    config: { access: access.permission('camera.manage') },
    schema: { body: Type.Object({ address: Address }, { additionalProperties: false }), response: { 200: Type.Object({ deviceUrl: Type.String(), certificate: Certificate }), ...Errors } },
  }, async (request) => enrolment.probe(request.body.address, requestContext(request)));

  app.post<{ Body: Static<typeof InspectBody> }>('/api/v1/cameras/onvif/inspect', {
    config: { access: access.permission('camera.manage') },
    schema: {
      body: InspectBody,
      response: {
        200: Type.Object({
          deviceUrl: Type.String(),
          device: Type.Object({ manufacturer: Type.String(), model: Type.String(), firmwareVersion: Type.String(), serialNumber: Type.String(), hardwareId: Type.String() }),
          profiles: Type.Array(Type.Object({ token: Type.String(), name: Type.String(), encoding: Type.String(), width: Type.Union([Type.Integer(), Type.Null()]), height: Type.Union([Type.Integer(), Type.Null()]) })),
          profileToken: Type.String(),
          stream: Stream,
        }),
        ...Errors,
      },
    },
  }, async (request) => enrolment.inspect(request.body, requestContext(request)));

  app.post<{ Body: Static<typeof AddBody> }>('/api/v1/cameras/onvif', {
    config: { access: access.permission('camera.manage') },
    schema: { body: AddBody, response: { 201: Type.Object({ camera: Camera, stream: Stream }), ...Errors } },
  }, async (request, reply) => reply.status(201).send(await enrolment.add(request.body, requestContext(request))));

  // Re-pinning after a deliberate certificate change: the admin confirms what the camera presents now.
  app.post<{ Params: Static<typeof CameraId>; Body: { fingerprint256: string } }>('/api/v1/cameras/:id/trust-certificate', {
    config: { access: access.permission('camera.manage', cameraScope) },
    schema: { params: CameraId, body: Type.Object({ fingerprint256: FingerprintIn }, { additionalProperties: false }), response: { 200: Camera, ...Errors } },
  }, async (request) => enrolment.trustCurrentCertificate(request.params.id, request.body.fingerprint256, requestContext(request)));
}
