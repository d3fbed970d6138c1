// Device discovery toggles (NVR-5.3.2.1a, CAM-5.3.2.2, CAM-T-com-2): administrators only
// (system.manage), every change audited by the service; and the UPnP device description that
// SSDP answers point to, which exists only while SSDP is on.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { VigilError } from '../../core/errors.ts';
import { PRODUCT } from '../../core/product.ts';
import { deviceDescriptionXml } from '../../device/discovery/ssdp.ts';
import type { Actor } from '../../device/discovery/discovery-service.ts';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { actorOf } from './common.ts';
import type { FastifyRequest } from 'fastify';

const Protocol = Type.Union([Type.Literal('ws-discovery'), Type.Literal('ssdp'), Type.Literal('mdns'), Type.Literal('snmp')]);

const State = Type.Object({
  protocols: Type.Array(Type.Object({
    protocol: Protocol,
    enabled: Type.Boolean(),
    listening: Type.Boolean(),
    port: Type.Union([Type.Integer(), Type.Null()]),
    unavailable: Type.Union([Type.String(), Type.Null()]),
  })),
  snmpUser: Type.Union([Type.Object({ username: Type.String(), authProtocol: Type.String(), privProtocol: Type.String() }), Type.Null()]),
});

const Toggles = Type.Object(
  { 'ws-discovery': Type.Optional(Type.Boolean()), ssdp: Type.Optional(Type.Boolean()), mdns: Type.Optional(Type.Boolean()), snmp: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

const SnmpUser = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 32 }),
    authProtocol: Type.Union([Type.Literal('sha256'), Type.Literal('sha512')]),
    privProtocol: Type.Literal('aes128'),
    authPassphrase: Type.String({ minLength: 1, maxLength: 128 }),
    privPassphrase: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

function who(request: FastifyRequest): Actor {
  return { actor: actorOf(request), source: request.ip };
}

export async function discoveryRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const discovery = services.discovery;

  app.get('/api/v1/system/discovery', {
    config: { access: access.permission('system.manage') },
    schema: { response: { 200: State, ...Errors } },
  }, async () => discovery.state());

  app.put<{ Body: Static<typeof Toggles> }>('/api/v1/system/discovery', {
    config: { access: access.permission('system.manage') },
    schema: { body: Toggles, response: { 200: State, ...Errors } },
  }, async (request) => discovery.setProtocols(request.body, who(request)));

  app.put<{ Body: Static<typeof SnmpUser> }>('/api/v1/system/discovery/snmp-user', {
    config: { access: access.permission('system.manage') },
    schema: { body: SnmpUser, response: { 200: State, ...Errors } },
  }, async (request) => discovery.setSnmpUser(request.body, who(request)));

  app.delete('/api/v1/system/discovery/snmp-user', {
    config: { access: access.permission('system.manage') },
    schema: { response: { 200: State, ...Errors } },
  }, async (request) => discovery.deleteSnmpUser(who(request)));

  // UPnP DA 2.0 §2.1: control points fetch the description without credentials. It names the
  // device and the web interface only, and is not there at all unless SSDP is on.
  app.get('/upnp/device.xml', {
    config: { access: access.public() },
    schema: { response: { 200: Type.String(), ...Errors } },
  }, async (_request, reply) => {
    if (!discovery.toggles().ssdp) throw new VigilError('VIGIL_NOT_FOUND', 'not found');
    const xml = deviceDescriptionXml({
      udn: `uuid:${discovery.responders.uuid}`,
      friendlyName: services.product.deviceName,
      manufacturer: PRODUCT.name,
      modelName: PRODUCT.model,
      modelNumber: PRODUCT.version,
      presentationUrl: `${services.origin()}/`,
      configId: 1,
    });
    return reply.header('content-type', 'text/xml; charset="utf-8"').send(xml);
  });
}
