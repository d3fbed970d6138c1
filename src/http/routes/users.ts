// User administration: users, roles with per-resource scope, password resets, unlock
// (NVR-5.4.3.1a, ACS-5.1.1.10). Every change is audited by the identity service.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { Empty, GrantSchema, IdParam, Ok, Password, Username, requestContext } from './common.ts';
import type { UserView } from '../../identity/types.ts';

const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  email: Type.String(),
  grants: Type.Array(GrantSchema),
  disabled: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  passwordChangedAt: Type.String(),
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
  totpEnabled: Type.Boolean(),
  webauthnCredentials: Type.Integer(),
  createdAt: Type.String(),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  lastLoginFrom: Type.Union([Type.String(), Type.Null()]),
});
const UserSession = Type.Object({
  id: Type.String(), createdAt: Type.String(), lastSeenAt: Type.String(), expiresAt: Type.String(),
  mfaPassed: Type.Boolean(), sourceIp: Type.String(), userAgent: Type.String(),
});
const GrantInput = Type.Object(
  {
    role: Type.String({ minLength: 1, maxLength: 32 }),
    scopeKind: Type.Union([Type.Literal('global'), Type.Literal('site'), Type.Literal('camera'), Type.Literal('door')]),
    scopeId: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
const NewUser = Type.Object(
  {
    username: Username,
    password: Password,
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    grants: Type.Optional(Type.Array(GrantInput, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const UserPatch = Type.Object(
  { displayName: Type.Optional(Type.String({ maxLength: 200 })), email: Type.Optional(Type.String({ maxLength: 254 })), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
const ResetBody = Type.Object({ newPassword: Password }, { additionalProperties: false });
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })) },
  { additionalProperties: false },
);
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

function view(u: UserView): Static<typeof User> {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    grants: u.grants,
    disabled: u.disabled,
    mustChangePassword: u.mustChangePassword,
    passwordChangedAt: new Date(u.passwordChangedAt).toISOString(),
    lockedUntil: u.lockedUntil === null ? null : new Date(u.lockedUntil).toISOString(),
    totpEnabled: u.totpEnabled,
    webauthnCredentials: u.webauthnCredentials,
    createdAt: new Date(u.createdAt).toISOString(),
    lastLoginAt: u.lastLoginAt === null ? null : new Date(u.lastLoginAt).toISOString(),
    lastLoginFrom: u.lastLoginFrom,
  };
}

export async function userRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const { identity } = services;

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/users', {
    config: { access: access.permission('users.read') },
    schema: { querystring: ListQuery, response: { 200: Type.Object({ users: Type.Array(User) }), ...Errors } },
  }, async (request) => ({ users: (await identity.listUsers(request.query)).map(view) }));

  app.post<{ Body: Static<typeof NewUser> }>('/api/v1/users', {
    config: { access: access.permission('users.manage') },
    schema: { body: NewUser, response: { 201: User, ...Errors } },
  }, async (request, reply) => reply.status(201).send(view(await identity.createUser(request.body, requestContext(request)))));

  app.get<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id', {
    config: { access: access.permission('users.read') },
    schema: { params: IdParam, response: { 200: User, ...Errors } },
  }, async (request) => view(await identity.getUser(request.params.id)));

  app.patch<{ Params: Static<typeof IdParam>; Body: Static<typeof UserPatch> }>('/api/v1/users/:id', {
    config: { access: access.permission('users.manage') },
    schema: { params: IdParam, body: UserPatch, response: { 200: User, ...Errors } },
  }, async (request) => view(await identity.updateUser(request.params.id, request.body, requestContext(request))));

  app.delete<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id', {
    config: { access: access.permission('users.manage') },
    schema: { params: IdParam, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.deleteUser(request.params.id, requestContext(request));
    return { ok: true as const };
  });

  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof GrantInput> }>('/api/v1/users/:id/grants', {
    config: { access: access.permission('users.manage') },
    schema: { params: IdParam, body: GrantInput, response: { 200: User, ...Errors } },
  }, async (request) => view(await identity.grantRole(request.params.id, request.body, requestContext(request))));

  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof GrantInput> }>('/api/v1/users/:id/grants/revoke', {
    config: { access: access.permission('users.manage') },
    schema: { params: IdParam, body: GrantInput, response: { 200: User, ...Errors } },
  }, async (request) => view(await identity.revokeRole(request.params.id, request.body, requestContext(request))));

  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof ResetBody> }>('/api/v1/users/:id/password-reset', {
    config: { access: access.permission('users.manage') },
    schema: { params: IdParam, body: ResetBody, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.adminResetPassword(request.params.id, request.body.newPassword, requestContext(request));
    return { ok: true as const };
  });

  app.post<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id/unlock', {
    config: { access: access.permission('users.manage') },
    schema: { body: Empty, params: IdParam, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.unlockUser(request.params.id, requestContext(request));
    return { ok: true as const };
  });

  app.get<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id/sessions', {
    config: { access: access.permission('users.read') },
    schema: { params: IdParam, response: { 200: Type.Object({ sessions: Type.Array(UserSession) }), ...Errors } },
  }, async (request) => {
    const iso = (ms: number): string => new Date(ms).toISOString();
    const sessions = await identity.listSessionsOfUser(request.params.id);
    return { sessions: sessions.map((s) => ({ ...s, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt) })) };
  });

  // "Log out everywhere" for another user (ACS-5.2.1.13): every session ends at once; audited.
  app.post<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id/sessions/revoke-all', {
    config: { access: access.permission('users.manage') },
    schema: { body: Empty, params: IdParam, response: { 200: Type.Object({ revoked: Type.Integer() }), ...Errors } },
  }, async (request) => ({ revoked: await identity.adminLogoutEverywhere(request.params.id, requestContext(request)) }));

  app.post<{ Params: Static<typeof IdParam> }>('/api/v1/users/:id/mfa-reset', {
    config: { access: access.permission('users.manage') },
    schema: { body: Empty, params: IdParam, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.resetMfa(request.params.id, requestContext(request));
    return { ok: true as const };
  });
}
