// Shared pieces of the route modules: request context, the session cookie, common schemas.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { VigilError } from '../../core/errors.ts';
import { heldPermissions } from '../../identity/permissions.ts';
import { restrictedReason } from '../../identity/principal.ts';
import type { IssuedSession, Principal, RequestContext } from '../../identity/types.ts';
import { SESSION_COOKIE } from '../access.ts';

/**
 * A request field that is T or null, as one schema with a type list: with type coercion on (the
 * app's ajv), an anyOf of T and null would coerce a null into T first (null → 0 for an integer).
 */
export const Nullable = <T extends TSchema & { type: string }>(t: T) => Type.Unsafe<Static<T> | null>({ ...t, type: [t.type, 'null'] });

export function requestContext(request: FastifyRequest): RequestContext {
  const ctx: RequestContext = { sourceIp: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 256) };
  if (request.principal !== null) ctx.actor = request.principal;
  return ctx;
}

export function actorOf(request: FastifyRequest): string {
  return request.principal === null ? 'anonymous' : `user:${request.principal.username}`;
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new VigilError('VIGIL_AUTH_REQUIRED', 'authentication required');
  return request.principal;
}

/** HttpOnly, Secure, SameSite=Strict, __Host- prefixed, no Max-Age: gone with the browser (design.md §4). */
export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}

export const GrantSchema = Type.Object({
  role: Type.String(),
  scopeKind: Type.String(),
  scopeId: Type.String(),
});

export const PrincipalSchema = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  grants: Type.Array(GrantSchema),
  authMethod: Type.String(),
  mfaPassed: Type.Boolean(),
  mfaEnrolmentRequired: Type.Boolean(),
  passwordChangeRequired: Type.Boolean(),
  passwordExpiresInDays: Type.Number(),
  /** What the grants allow on at least one resource: the UI shows only these (the API still decides). */
  permissions: Type.Array(Type.String()),
});

/** CAM-T-priv-2: the login that opened this session, shown to the user at once. */
export const LoginNoticeSchema = Type.Object({ at: Type.String(), sourceIp: Type.String(), newSource: Type.Boolean() });

export const SessionIssuedSchema = Type.Object({
  status: Type.Literal('authenticated'),
  csrfToken: Type.String(),
  expiresAt: Type.String(),
  idleTimeoutSeconds: Type.Integer(),
  principal: PrincipalSchema,
  login: Type.Optional(LoginNoticeSchema),
});

export function principalView(p: Principal): Record<string, unknown> {
  return {
    userId: p.userId,
    username: p.username,
    grants: p.grants,
    authMethod: p.authMethod,
    mfaPassed: p.mfaPassed,
    mfaEnrolmentRequired: p.mfaEnrolmentRequired,
    passwordChangeRequired: p.passwordChangeRequired,
    passwordExpiresInDays: p.passwordExpiresInDays,
    // Until the password is changed or a factor enrolled, nothing is allowed (principal.ts).
    permissions: restrictedReason(p) === null ? heldPermissions(p.grants) : [],
  };
}

/** Sets the cookie and returns the body: the CSRF token is given to the page, never a cookie. */
export function sessionIssued(reply: FastifyReply, session: IssuedSession): Record<string, unknown> {
  setSessionCookie(reply, session.token);
  return {
    status: 'authenticated',
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
    idleTimeoutSeconds: Math.round(session.idleTimeoutMs / 1000),
    principal: principalView(session.principal),
    ...(session.login === undefined ? {} : { login: { at: new Date(session.login.at).toISOString(), sourceIp: session.login.sourceIp, newSource: session.login.newSource } }),
  };
}

export const Username = Type.String({ minLength: 1, maxLength: 64 });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export const Empty = Type.Object({}, { additionalProperties: false });
export const Ok = Type.Object({ ok: Type.Literal(true) });
