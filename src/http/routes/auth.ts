// Login, MFA, logout, own account (NVR-5.4.1.*, NVR-5.4.2.*, NVR-5.4.3.1b, ACS-5.2.1.13).
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { access, SESSION_COOKIE } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import {
  Empty, Ok, Password, PrincipalSchema, SessionIssuedSchema, Username,
  clearSessionCookie, principalOf, principalView, requestContext, sessionIssued,
} from './common.ts';

const LoginBody = Type.Object({ username: Username, password: Password }, { additionalProperties: false });
const MfaRequired = Type.Object({ status: Type.Literal('mfa_required'), mfaToken: Type.String(), methods: Type.Array(Type.String()) });
const MfaTotpBody = Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }), code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false });
const MfaTokenBody = Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
/** WebAuthn JSON from the browser: checked field by field by @simplewebauthn/server. */
const WebauthnJson = Type.Object({}, { additionalProperties: true, maxProperties: 16 });
const MfaWebauthnBody = Type.Object({ mfaToken: Type.String({ minLength: 1, maxLength: 200 }), response: WebauthnJson }, { additionalProperties: false });
const PasswordBody = Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false });
const TotpConfirmBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false });
const WebauthnRegisterBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), response: WebauthnJson }, { additionalProperties: false });
const AnyObject = Type.Object({}, { additionalProperties: true });
const PasskeyView = Type.Object({
  id: Type.String(), name: Type.String(), transports: Type.Array(Type.String()),
  createdAt: Type.Integer(), lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
});
const MfaStatusView = Type.Object({ required: Type.Boolean(), totpEnabled: Type.Boolean(), passkeys: Type.Array(PasskeyView) });
/** A credential id: base64url of at most 1023 bytes (WebAuthn §5.8.3 caps credential ids). */
const CredentialIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 1364, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });
const SessionView = Type.Object({
  id: Type.String(), createdAt: Type.Integer(), lastSeenAt: Type.Integer(), expiresAt: Type.Integer(),
  mfaPassed: Type.Boolean(), sourceIp: Type.String(), userAgent: Type.String(), current: Type.Boolean(),
});
const ApiTokenView = Type.Object({
  id: Type.String(), name: Type.String(), createdAt: Type.Integer(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]), lastUsedAt: Type.Union([Type.Integer(), Type.Null()]), revoked: Type.Boolean(),
});
const NewTokenBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), expiresAt: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);
const NoticesQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })) }, { additionalProperties: false });
const LoginNoticeView = Type.Object({ id: Type.Integer(), at: Type.String(), sourceIp: Type.String(), userAgent: Type.String(), newSource: Type.Boolean() });
const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function authRoutes(app: FastifyInstance, { services, config }: RouteDeps): Promise<void> {
  const { identity } = services;
  const authLimit = { max: config.security.authRateLimitPerMinute, timeWindow: 60_000 };
  app.post<{ Body: Static<typeof LoginBody> }>('/api/v1/auth/login', {
    config: { access: access.public(), rateLimit: authLimit },
    schema: { body: LoginBody, response: { 200: Type.Union([SessionIssuedSchema, MfaRequired]), ...Errors } },
  }, async (request, reply) => {
    const result = await identity.login(request.body, requestContext(request));
    if (result.kind === 'mfa') return { status: 'mfa_required' as const, mfaToken: result.mfaToken, methods: result.methods };
    return sessionIssued(reply, result.session);
  });

  app.post<{ Body: Static<typeof MfaTotpBody> }>('/api/v1/auth/login/totp', {
    config: { access: access.public(), rateLimit: authLimit },
    schema: { body: MfaTotpBody, response: { 200: SessionIssuedSchema, ...Errors } },
  }, async (request, reply) => sessionIssued(reply, await identity.loginMfaTotp(request.body.mfaToken, request.body.code, requestContext(request))));

  app.post<{ Body: Static<typeof MfaTokenBody> }>('/api/v1/auth/login/webauthn/options', {
    config: { access: access.public(), rateLimit: authLimit },
    schema: { body: MfaTokenBody, response: { 200: AnyObject, ...Errors } },
  }, async (request) => identity.loginMfaWebauthnOptions(request.body.mfaToken));

  app.post<{ Body: Static<typeof MfaWebauthnBody> }>('/api/v1/auth/login/webauthn', {
    config: { access: access.public(), rateLimit: authLimit },
    schema: { body: MfaWebauthnBody, response: { 200: SessionIssuedSchema, ...Errors } },
  }, async (request, reply) => {
    const response = request.body.response as unknown as AuthenticationResponseJSON;
    // WebAuthn responses come only from the device's own web UI origins (NVR-5.4.1.2a).
    return sessionIssued(reply, await identity.loginMfaWebauthnVerify(request.body.mfaToken, response, services.webOrigins(), requestContext(request)));
  });

  app.post('/api/v1/auth/logout', {
    config: { access: access.self() },
    schema: { body: Empty, response: { 200: Ok, ...Errors } },
  }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token !== undefined) await identity.logout(token, requestContext(request));
    clearSessionCookie(reply);
    return { ok: true as const };
  });

  // After a page reload the browser still has the session cookie but not the CSRF token: the
  // cookie is SameSite=Strict, so only a same-site page can call this (and read the answer).
  app.get('/api/v1/auth/csrf', {
    config: { access: access.self() },
    schema: { response: { 200: Type.Object({ csrfToken: Type.String(), idleTimeoutSeconds: Type.Integer() }), ...Errors } },
  }, async (request) => {
    const { csrfToken, idleTimeoutMs } = await identity.rotateCsrf(request.cookies[SESSION_COOKIE] ?? '');
    return { csrfToken, idleTimeoutSeconds: Math.round(idleTimeoutMs / 1000) };
  });

  app.get('/api/v1/auth/me', {
    config: { access: access.self() },
    schema: { response: { 200: PrincipalSchema, ...Errors } },
  }, async (request) => principalView(principalOf(request)));

  app.post<{ Body: Static<typeof PasswordBody> }>('/api/v1/auth/password', {
    config: { access: access.self(), rateLimit: authLimit },
    schema: { body: PasswordBody, response: { 200: SessionIssuedSchema, ...Errors } },
  }, async (request, reply) => {
    const p = principalOf(request);
    const session = await identity.changePassword(p.userId, request.body.currentPassword, request.body.newPassword, requestContext(request));
    return sessionIssued(reply, session);
  });

  app.get('/api/v1/auth/sessions', {
    config: { access: access.self() },
    schema: { response: { 200: Type.Object({ sessions: Type.Array(SessionView) }), ...Errors } },
  }, async (request) => {
    const p = principalOf(request);
    const sessions = await identity.listSessions(p.userId);
    return { sessions: sessions.map((s) => ({ ...s, current: s.id === p.sessionIdHash })) };
  });

  app.post('/api/v1/auth/sessions/revoke-all', {
    config: { access: access.self() },
    schema: { body: Empty, response: { 200: Type.Object({ revoked: Type.Integer() }), ...Errors } },
  }, async (request, reply) => {
    const revoked = await identity.logoutEverywhere(principalOf(request).userId, requestContext(request));
    clearSessionCookie(reply);
    return { revoked };
  });

  // CAM-T-priv-2: an open session polls this to learn of every other login to its account (the
  // asking session's own login left out). Without `after`: only the cursor to start from.
  app.get<{ Querystring: Static<typeof NoticesQuery> }>('/api/v1/auth/login-notices', {
    config: { access: access.user() },
    schema: { querystring: NoticesQuery, response: { 200: Type.Object({ latest: Type.Integer(), notices: Type.Array(LoginNoticeView) }), ...Errors } },
  }, async (request) => {
    const { latest, notices } = identity.loginNotices(principalOf(request), request.query.after);
    return { latest, notices: notices.map((n) => ({ id: n.id, at: new Date(n.at).toISOString(), sourceIp: n.sourceIp, userAgent: n.userAgent, newSource: n.newSource })) };
  });

  app.post('/api/v1/auth/mfa/totp/enrol', {
    config: { access: access.self() },
    schema: { body: Empty, response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }), ...Errors } },
  }, async (request) => identity.totpEnrolStart(principalOf(request).userId));

  app.post<{ Body: Static<typeof TotpConfirmBody> }>('/api/v1/auth/mfa/totp/confirm', {
    config: { access: access.self(), rateLimit: authLimit },
    schema: { body: TotpConfirmBody, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.totpEnrolConfirm(principalOf(request).userId, request.body.code, requestContext(request));
    return { ok: true as const };
  });

  app.post('/api/v1/auth/mfa/webauthn/register/options', {
    config: { access: access.self() },
    schema: { body: Empty, response: { 200: AnyObject, ...Errors } },
  }, async (request) => identity.webauthnRegistrationOptions(principalOf(request).userId));

  app.post<{ Body: Static<typeof WebauthnRegisterBody> }>('/api/v1/auth/mfa/webauthn/register', {
    config: { access: access.self() },
    schema: { body: WebauthnRegisterBody, response: { 200: Type.Object({ id: Type.String(), name: Type.String() }), ...Errors } },
  }, async (request) => {
    const response = request.body.response as unknown as RegistrationResponseJSON;
    const cred = await identity.webauthnRegistrationVerify(principalOf(request).userId, response, services.webOrigins(), request.body.name, requestContext(request));
    return { id: cred.id, name: cred.name };
  });

  // The Account page: the user's own second factors (NVR-5.4.1.2a).
  app.get('/api/v1/auth/mfa', {
    config: { access: access.user() },
    schema: { response: { 200: MfaStatusView, ...Errors } },
  }, async (request) => identity.mfaStatus(principalOf(request).userId));

  // Removing the last second factor of a role that requires one is refused (VIGIL_MFA_LAST_FACTOR).
  app.delete<{ Params: Static<typeof CredentialIdParam> }>('/api/v1/auth/mfa/webauthn/:id', {
    config: { access: access.user() },
    schema: { params: CredentialIdParam, response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.removeWebauthnCredential(principalOf(request).userId, request.params.id, requestContext(request));
    return { ok: true as const };
  });

  app.get('/api/v1/auth/tokens', {
    config: { access: access.user() },
    schema: { response: { 200: Type.Object({ tokens: Type.Array(ApiTokenView) }), ...Errors } },
  }, async (request) => ({ tokens: await identity.listApiTokens(principalOf(request).userId) }));

  app.post<{ Body: Static<typeof NewTokenBody> }>('/api/v1/auth/tokens', {
    config: { access: access.user() },
    schema: { body: NewTokenBody, response: { 201: Type.Object({ token: Type.String(), apiToken: ApiTokenView }), ...Errors } },
  }, async (request, reply) => {
    const expiresAt = request.body.expiresAt === undefined ? null : Date.parse(request.body.expiresAt);
    const created = await identity.createApiToken(principalOf(request).userId, { name: request.body.name, expiresAt }, requestContext(request));
    return reply.status(201).send(created);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/auth/tokens/:id', {
    config: { access: access.user() },
    schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 200: Ok, ...Errors } },
  }, async (request) => {
    await identity.revokeApiToken(principalOf(request).userId, request.params.id, requestContext(request));
    return { ok: true as const };
  });
}
