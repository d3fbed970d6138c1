// Access-control platform API (design.md §6): sites, areas, doors, schedules, cardholders,
// credentials, access levels, CSV import, the access event log and site lockdown. Per-door and
// per-site scoping is enforced by the one access gate; every change is audited by the services
// (ACS-5.2.1.12); PINs are write-only (ACS-5.3.1.2).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { AccessPlatform } from '../../access/platform/platform.ts';
import { IMPORT_MAX_BYTES } from '../../access/platform/csv-import.ts';
import { ANTI_PASSBACK_MODES, CARDHOLDER_STATUSES, CARD_FORMATS, CREDENTIAL_STATUSES, DOOR_MODES } from '../../access/platform/types.ts';
import { scopedIds, type ResourceScope } from '../../identity/permissions.ts';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import { Nullable, Ok, principalOf, requestContext } from './common.ts';

export interface AccessRouteDeps {
  services: { access: AccessPlatform };
}

const Id = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
type IdParams = Static<typeof Id>;
const Literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Uuid = Type.String({ format: 'uuid' });
const Epoch = Type.Integer({ minimum: 0 });
const Hhmm = Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$' });
const Io = Type.Integer({ minimum: 0, maximum: 255 });
const Pin = Type.String({ pattern: '^\\d{4,8}$' });
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const strict = { additionalProperties: false } as const;
const patchOf = <T extends TSchema>(t: T) => Type.Partial(t, { additionalProperties: false, minProperties: 1 });

const Site = Type.Object({ id: Type.String(), name: Type.String(), timezone: Type.String(), lockdown: Type.Boolean(), lockdownChangedAt: Nullable(Type.Integer()), createdAt: Type.Integer(), updatedAt: Type.Integer() });
const NewSite = Type.Object({ name: Name, timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, strict);
const Area = Type.Object({ id: Type.String(), siteId: Type.String(), name: Type.String(), antiPassback: Literals(ANTI_PASSBACK_MODES) });
const NewArea = Type.Object({ name: Name, antiPassback: Type.Optional(Literals(ANTI_PASSBACK_MODES)) }, strict);
const DoorFields = {
  name: Name,
  areaFrom: Type.Optional(Nullable(Uuid)),
  areaTo: Type.Optional(Nullable(Uuid)),
  lockOutput: Io,
  doorPositionInput: Type.Optional(Nullable(Io)),
  rexInput: Type.Optional(Nullable(Io)),
  mode: Type.Optional(Literals(DOOR_MODES)),
  unlockSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
  heldOpenSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  interlockGroup: Type.Optional(Nullable(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }))),
  unlockScheduleId: Type.Optional(Nullable(Uuid)),
  firstPersonIn: Type.Optional(Type.Boolean()),
};
const NewDoor = Type.Object({ siteId: Uuid, ...DoorFields }, strict);
const DoorPatch = patchOf(Type.Object(DoorFields, strict));
const Door = Type.Object({
  id: Type.String(), siteId: Type.String(), name: Type.String(), areaFrom: Nullable(Type.String()), areaTo: Nullable(Type.String()),
  lockOutput: Type.Integer(), doorPositionInput: Nullable(Type.Integer()), rexInput: Nullable(Type.Integer()), mode: Literals(DOOR_MODES),
  unlockSeconds: Type.Integer(), heldOpenSeconds: Type.Integer(), interlockGroup: Nullable(Type.String()), unlockScheduleId: Nullable(Type.String()),
  firstPersonIn: Type.Boolean(), createdAt: Type.Integer(), updatedAt: Type.Integer(),
});
const DoorController = Type.Object({ doorId: Type.String(), controllerId: Nullable(Type.String()) });
const SetDoorController = Type.Object({ controllerId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'Device ID of an enrolled door controller (device registry)' }) }, strict);
const DoorStatus = Type.Object({ doorId: Type.String(), open: Type.Boolean(), unlocked: Type.Boolean(), heldOpenAlarm: Type.Boolean(), forcedOpenAlarm: Type.Boolean() });
const Interval = Type.Object({ days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 }), from: Hhmm, to: Hhmm }, strict);
const Holiday = Type.Object({ date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), name: Name, intervals: Type.Array(Type.Object({ from: Hhmm, to: Hhmm }, strict), { maxItems: 8 }) }, strict);
const NewSchedule = Type.Object({ name: Name, intervals: Type.Array(Interval, { maxItems: 28 }), holidays: Type.Optional(Type.Array(Holiday, { maxItems: 366 })) }, strict);
const Schedule = Type.Object({ id: Type.String(), name: Type.String(), intervals: Type.Array(Interval), holidays: Type.Array(Holiday) });
const HolderFields = { name: Name, status: Type.Optional(Literals(CARDHOLDER_STATUSES)), validFrom: Type.Optional(Nullable(Epoch)), validUntil: Type.Optional(Nullable(Epoch)), lockdownOverride: Type.Optional(Type.Boolean()) };
const NewHolder = Type.Object(HolderFields, strict);
const Holder = Type.Object({ id: Type.String(), name: Type.String(), status: Literals(CARDHOLDER_STATUSES), validFrom: Nullable(Type.Integer()), validUntil: Nullable(Type.Integer()), lockdownOverride: Type.Boolean(), levelIds: Type.Array(Type.String()), createdAt: Type.Integer(), updatedAt: Type.Integer() });
const HolderLevels = Type.Object({ levelIds: Type.Array(Uuid, { maxItems: 32 }) }, strict);
const NewCredential = Type.Object({
  cardholderId: Uuid, cardFormat: Literals(CARD_FORMATS), cardNumber: Type.String({ pattern: '^[0-9]{1,20}$' }),
  pin: Type.Optional(Nullable(Pin)), duressPin: Type.Optional(Nullable(Pin)), status: Type.Optional(Literals(CREDENTIAL_STATUSES)),
  validFrom: Type.Optional(Nullable(Epoch)), validUntil: Type.Optional(Nullable(Epoch)),
}, strict);
const CredentialPatch = patchOf(Type.Object({ pin: Nullable(Pin), duressPin: Nullable(Pin), status: Literals(CREDENTIAL_STATUSES), validFrom: Nullable(Epoch), validUntil: Nullable(Epoch) }, strict));
/** PINs are write-only: only whether one is set comes back. */
const Credential = Type.Object({ id: Type.String(), cardholderId: Type.String(), cardFormat: Literals(CARD_FORMATS), cardNumber: Type.String(), hasPin: Type.Boolean(), hasDuressPin: Type.Boolean(), status: Literals(CREDENTIAL_STATUSES), validFrom: Nullable(Type.Integer()), validUntil: Nullable(Type.Integer()), createdAt: Type.Integer(), updatedAt: Type.Integer() });
const NewLevel = Type.Object({ name: Name, scheduleId: Uuid, doorIds: Type.Array(Uuid, { maxItems: 1000 }) }, strict);
const Level = Type.Object({ id: Type.String(), name: Type.String(), scheduleId: Type.String(), doorIds: Type.Array(Type.String()) });
const Import = Type.Object({ csv: Type.String({ minLength: 1, maxLength: IMPORT_MAX_BYTES }) }, strict);
const ImportReport = Type.Object({ imported: Type.Integer(), failed: Type.Integer(), rows: Type.Array(Type.Object({ line: Type.Integer(), ok: Type.Boolean(), cardholderId: Type.Optional(Type.String()), credentialId: Type.Optional(Type.String()), error: Type.Optional(Type.String()) })) });
const EventQuery = Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })), doorId: Type.Optional(Uuid), cardholderId: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) }, strict);
const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
const AccessEvent = Type.Object({
  id: Type.String(), ts: Type.String(), category: Type.String(), type: Type.String(), outcome: Type.String(), reason: Type.String(), source: Type.String(),
  siteId: Nullable(Type.String()), doorId: Nullable(Type.String()), cardholderId: Nullable(Type.String()), credentialId: Nullable(Type.String()), details: Type.Record(Type.String(), Scalar),
});
const Lockdown = Type.Object({ lockdown: Type.Boolean() }, strict);
const Pagination = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })) }, strict);

const siteScope = (request: FastifyRequest): ResourceScope => ({ kind: 'site', id: (request.params as IdParams).id });
const doorScope = (request: FastifyRequest): ResourceScope => ({ kind: 'door', id: (request.params as IdParams).id });
const newDoorScope = (request: FastifyRequest): ResourceScope => ({ kind: 'site', id: (request.body as { siteId: string }).siteId });
const eventScope = (request: FastifyRequest): ResourceScope | undefined => {
  const doorId = (request.query as { doorId?: string }).doorId;
  return doorId === undefined ? undefined : { kind: 'door', id: doorId };
};
const manage = access.permission('access.manage');
const P = '/api/v1/access';

export async function accessRoutes(app: FastifyInstance, { services }: AccessRouteDeps): Promise<void> {
  const { sites, holders, doors, imports } = services.access;
  const ok = { ok: true as const };

  // ---- sites and areas
  app.get(`${P}/sites`, { config: { access: access.permission('door.view') }, schema: { response: { 200: Type.Object({ sites: Type.Array(Site) }), ...Errors } } }, async () => ({ sites: await sites.listSites() }));
  app.post<{ Body: Static<typeof NewSite> }>(`${P}/sites`, { config: { access: manage }, schema: { body: NewSite, response: { 201: Site, ...Errors } } }, async (r, reply) => reply.status(201).send(await sites.createSite(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/sites/:id`, { config: { access: access.permission('door.view', siteScope) }, schema: { params: Id, response: { 200: Site, ...Errors } } }, async (r) => sites.getSite(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof NewSite> }>(`${P}/sites/:id`, { config: { access: manage }, schema: { params: Id, body: patchOf(NewSite), response: { 200: Site, ...Errors } } }, async (r) => sites.updateSite(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/sites/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await sites.deleteSite(r.params.id, requestContext(r));
    return ok;
  });
  app.put<{ Params: IdParams; Body: Static<typeof Lockdown> }>(`${P}/sites/:id/lockdown`, { config: { access: access.permission('door.control', siteScope) }, schema: { params: Id, body: Lockdown, response: { 200: Site, ...Errors } } }, async (r) => sites.setLockdown(r.params.id, r.body.lockdown, requestContext(r)));
  app.get<{ Params: IdParams }>(`${P}/sites/:id/areas`, { config: { access: access.permission('door.view', siteScope) }, schema: { params: Id, response: { 200: Type.Object({ areas: Type.Array(Area) }), ...Errors } } }, async (r) => ({ areas: await sites.listAreas(r.params.id) }));
  app.post<{ Params: IdParams; Body: Static<typeof NewArea> }>(`${P}/sites/:id/areas`, { config: { access: manage }, schema: { params: Id, body: NewArea, response: { 201: Area, ...Errors } } }, async (r, reply) => reply.status(201).send(await sites.createArea(r.params.id, r.body, requestContext(r))));
  app.patch<{ Params: IdParams; Body: Static<typeof NewArea> }>(`${P}/areas/:id`, { config: { access: manage }, schema: { params: Id, body: patchOf(NewArea), response: { 200: Area, ...Errors } } }, async (r) => sites.updateArea(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/areas/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await sites.deleteArea(r.params.id, requestContext(r));
    return ok;
  });

  // ---- doors (scoped per door; a site grant covers creating doors on its site)
  app.get(`${P}/doors`, { config: { access: access.permission('door.view') }, schema: { response: { 200: Type.Object({ doors: Type.Array(Door) }), ...Errors } } }, async (r) => ({ doors: await sites.listDoors(scopedIds(principalOf(r).grants, 'door.view', 'door')) }));
  app.post<{ Body: Static<typeof NewDoor> }>(`${P}/doors`, { config: { access: access.permission('door.manage', newDoorScope) }, schema: { body: NewDoor, response: { 201: Door, ...Errors } } }, async (r, reply) => reply.status(201).send(await sites.createDoor(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/doors/:id`, { config: { access: access.permission('door.view', doorScope) }, schema: { params: Id, response: { 200: Door, ...Errors } } }, async (r) => sites.getDoor(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof DoorPatch> }>(`${P}/doors/:id`, { config: { access: access.permission('door.manage', doorScope) }, schema: { params: Id, body: DoorPatch, response: { 200: Door, ...Errors } } }, async (r) => sites.updateDoor(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/doors/:id`, { config: { access: access.permission('door.manage', doorScope) }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await sites.deleteDoor(r.params.id, requestContext(r));
    return ok;
  });
  // Which enrolled controller drives the door: its credential set is compiled from this (issue #6).
  app.get<{ Params: IdParams }>(`${P}/doors/:id/controller`, { config: { access: access.permission('door.view', doorScope) }, schema: { params: Id, response: { 200: DoorController, ...Errors } } }, async (r) => sites.doorController(r.params.id));
  app.put<{ Params: IdParams; Body: Static<typeof SetDoorController> }>(`${P}/doors/:id/controller`, { config: { access: access.permission('door.manage', doorScope) }, schema: { params: Id, body: SetDoorController, response: { 200: DoorController, ...Errors } } }, async (r) => sites.setDoorController(r.params.id, r.body.controllerId, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/doors/:id/controller`, { config: { access: access.permission('door.manage', doorScope) }, schema: { params: Id, response: { 200: DoorController, ...Errors } } }, async (r) => sites.setDoorController(r.params.id, null, requestContext(r)));
  app.get<{ Params: IdParams }>(`${P}/doors/:id/status`, { config: { access: access.permission('door.view', doorScope) }, schema: { params: Id, response: { 200: DoorStatus, ...Errors } } }, async (r) => doors.status(r.params.id));

  // ---- schedules
  app.get(`${P}/schedules`, { config: { access: access.permission('door.view') }, schema: { response: { 200: Type.Object({ schedules: Type.Array(Schedule) }), ...Errors } } }, async () => ({ schedules: await sites.listSchedules() }));
  app.post<{ Body: Static<typeof NewSchedule> }>(`${P}/schedules`, { config: { access: manage }, schema: { body: NewSchedule, response: { 201: Schedule, ...Errors } } }, async (r, reply) => reply.status(201).send(await sites.createSchedule(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/schedules/:id`, { config: { access: access.permission('door.view') }, schema: { params: Id, response: { 200: Schedule, ...Errors } } }, async (r) => sites.getSchedule(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof NewSchedule> }>(`${P}/schedules/:id`, { config: { access: manage }, schema: { params: Id, body: patchOf(NewSchedule), response: { 200: Schedule, ...Errors } } }, async (r) => sites.updateSchedule(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/schedules/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await sites.deleteSchedule(r.params.id, requestContext(r));
    return ok;
  });

  // ---- cardholders, credentials, levels (personal data: access.manage only)
  app.get<{ Querystring: Static<typeof Pagination> }>(`${P}/cardholders`, { config: { access: manage }, schema: { querystring: Pagination, response: { 200: Type.Object({ cardholders: Type.Array(Holder) }), ...Errors } } }, async (r) => ({ cardholders: await holders.listCardholders(r.query.limit ?? 100, r.query.offset ?? 0) }));
  app.post<{ Body: Static<typeof NewHolder> }>(`${P}/cardholders`, { config: { access: manage }, schema: { body: NewHolder, response: { 201: Holder, ...Errors } } }, async (r, reply) => reply.status(201).send(await holders.createCardholder(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/cardholders/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Holder, ...Errors } } }, async (r) => holders.getCardholder(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof NewHolder> }>(`${P}/cardholders/:id`, { config: { access: manage }, schema: { params: Id, body: patchOf(NewHolder), response: { 200: Holder, ...Errors } } }, async (r) => holders.updateCardholder(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/cardholders/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await holders.deleteCardholder(r.params.id, requestContext(r));
    return ok;
  });
  app.put<{ Params: IdParams; Body: Static<typeof HolderLevels> }>(`${P}/cardholders/:id/levels`, { config: { access: manage }, schema: { params: Id, body: HolderLevels, response: { 200: Holder, ...Errors } } }, async (r) => holders.setLevels(r.params.id, r.body.levelIds, requestContext(r)));
  app.get<{ Params: IdParams }>(`${P}/cardholders/:id/credentials`, { config: { access: manage }, schema: { params: Id, response: { 200: Type.Object({ credentials: Type.Array(Credential) }), ...Errors } } }, async (r) => ({ credentials: await holders.listCredentials(r.params.id) }));
  app.post<{ Body: Static<typeof NewCredential> }>(`${P}/credentials`, { config: { access: manage }, schema: { body: NewCredential, response: { 201: Credential, ...Errors } } }, async (r, reply) => reply.status(201).send(await holders.createCredential(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/credentials/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Credential, ...Errors } } }, async (r) => holders.getCredential(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof CredentialPatch> }>(`${P}/credentials/:id`, { config: { access: manage }, schema: { params: Id, body: CredentialPatch, response: { 200: Credential, ...Errors } } }, async (r) => holders.updateCredential(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/credentials/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await holders.deleteCredential(r.params.id, requestContext(r));
    return ok;
  });
  app.get(`${P}/levels`, { config: { access: manage }, schema: { response: { 200: Type.Object({ levels: Type.Array(Level) }), ...Errors } } }, async () => ({ levels: await holders.listLevels() }));
  app.post<{ Body: Static<typeof NewLevel> }>(`${P}/levels`, { config: { access: manage }, schema: { body: NewLevel, response: { 201: Level, ...Errors } } }, async (r, reply) => reply.status(201).send(await holders.createLevel(r.body, requestContext(r))));
  app.get<{ Params: IdParams }>(`${P}/levels/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Level, ...Errors } } }, async (r) => holders.getLevel(r.params.id));
  app.patch<{ Params: IdParams; Body: Static<typeof NewLevel> }>(`${P}/levels/:id`, { config: { access: manage }, schema: { params: Id, body: patchOf(NewLevel), response: { 200: Level, ...Errors } } }, async (r) => holders.updateLevel(r.params.id, r.body, requestContext(r)));
  app.delete<{ Params: IdParams }>(`${P}/levels/:id`, { config: { access: manage }, schema: { params: Id, response: { 200: Ok, ...Errors } } }, async (r) => {
    await holders.deleteLevel(r.params.id, requestContext(r));
    return ok;
  });
  app.post<{ Body: Static<typeof Import> }>(`${P}/import`, { config: { access: manage }, schema: { body: Import, response: { 200: ImportReport, ...Errors } } }, async (r) => imports.run(r.body.csv, requestContext(r)));

  // ---- the access event log (ACS-5.6.1.1, read-only: ACS-5.6.1.7)
  app.get<{ Querystring: Static<typeof EventQuery> }>(`${P}/events`, { config: { access: access.permission('door.view', eventScope) }, schema: { querystring: EventQuery, response: { 200: Type.Object({ events: Type.Array(AccessEvent) }), ...Errors } } }, async (r) => {
    const visible = scopedIds(principalOf(r).grants, 'door.view', 'door');
    const q = r.query;
    const doorIds = q.doorId !== undefined ? [q.doorId] : visible === 'all' ? undefined : [...visible];
    return {
      events: await doors.listEvents({
        limit: q.limit ?? 500,
        ...(q.from === undefined ? {} : { from: Date.parse(q.from) }),
        ...(q.to === undefined ? {} : { to: Date.parse(q.to) }),
        ...(doorIds === undefined ? {} : { doorIds }),
        ...(q.cardholderId === undefined ? {} : { cardholderId: q.cardholderId }),
      }),
    };
  });
}
