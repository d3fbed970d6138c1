// The one access gate (design.md §2): every route declares who may call it in its route config
// (`config: { access: ... }`), and one pair of hooks enforces it, default-deny. A route without
// a declaration, or without JSON schemas for its response, makes the server refuse to start.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { VigilError } from '../core/errors.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Permission, ResourceScope } from '../identity/permissions.ts';
import type { Principal } from '../identity/principal.ts';
import { authorize, restrictedReason } from '../identity/principal.ts';

/** Set by the web UI on its polls: they must not keep an idle session alive (NVR-5.4.3.1b, CAM-T-auth-5). */
export const BACKGROUND_HEADER = 'x-vigil-background';

export type RouteAccess =
  /** Anyone, also before setup: health and setup only. */
  | { kind: 'setup' }
  /** Anyone after setup: login steps. */
  | { kind: 'public' }
  /** Any authenticated user, including one who must first change the password or enrol MFA. */
  | { kind: 'self' }
  /** Any fully authenticated user (no pending password change / MFA enrolment), no permission needed: own API tokens. */
  | { kind: 'user' }
  /** Authenticated, fully (no pending password change / MFA enrolment), holding the permission. */
  | { kind: 'permission'; permission: Permission; scope?: (request: FastifyRequest) => ResourceScope | undefined };

export const access = {
  setup: (): RouteAccess => ({ kind: 'setup' }),
  public: (): RouteAccess => ({ kind: 'public' }),
  self: (): RouteAccess => ({ kind: 'self' }),
  user: (): RouteAccess => ({ kind: 'user' }),
  permission: (permission: Permission, scope?: (request: FastifyRequest) => ResourceScope | undefined): RouteAccess =>
    scope === undefined ? { kind: 'permission', permission } : { kind: 'permission', permission, scope },
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = '__Host-vigil_session';
export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface Authenticator {
  setupRequired(): Promise<boolean>;
  authenticateSession(token: string, ctx: { sourceIp: string; userAgent: string }): Promise<Principal>;
  authenticateApiToken(token: string): Promise<Principal>;
  verifyCsrf(sessionToken: string, csrfToken: string): Promise<boolean>;
}

/** Refuse at registration time any route that does not declare its access and its schemas. */
export function requireRouteDeclarations(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.method === 'HEAD') return; // fastify's automatic HEAD twin of a GET route
    const name = `${String(route.method)} ${route.url}`;
    const declared = route.config?.access;
    if (declared === undefined) {
      throw new VigilError('VIGIL_ROUTE_PERMISSION_MISSING', `route ${name} declares no access; refusing to start (default deny)`);
    }
    // Every input and output is validated: a route that forgets one does not start either.
    if (route.schema?.response === undefined) {
      throw new VigilError('VIGIL_ROUTE_PERMISSION_MISSING', `route ${name} declares no response schema; refusing to start`);
    }
    if (route.url.includes(':') && route.schema.params === undefined) {
      throw new VigilError('VIGIL_ROUTE_PERMISSION_MISSING', `route ${name} declares no params schema; refusing to start`);
    }
    const methods = ([] as string[]).concat(route.method);
    if (methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH') && route.schema.body === undefined) {
      throw new VigilError('VIGIL_ROUTE_PERMISSION_MISSING', `route ${name} declares no body schema; refusing to start`);
    }
  });
}

export function installAccessGate(app: FastifyInstance, deps: { auth: Authenticator; audit: AuditSink }): void {
  app.decorateRequest('principal', null);

  // Authentication runs before the body is parsed: an anonymous caller never gets that far.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const declared = request.routeOptions.config.access;
    if (declared === undefined) return; // 404s: no route, nothing to protect
    if (declared.kind !== 'setup' && (await deps.auth.setupRequired())) {
      throw new VigilError('VIGIL_SETUP_REQUIRED', 'setup required: create the first administrator with the setup token printed on the console (or `vigil setup`)');
    }
    if (declared.kind === 'setup' || declared.kind === 'public') return;
    const ctx = { sourceIp: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 256), background: request.headers[BACKGROUND_HEADER] === '1' };
    const bearer = bearerToken(request);
    if (bearer !== undefined) {
      request.principal = await deps.auth.authenticateApiToken(bearer);
      return;
    }
    const session = request.cookies[SESSION_COOKIE];
    if (session === undefined || session === '') throw new VigilError('VIGIL_AUTH_REQUIRED', 'authentication required');
    request.principal = await deps.auth.authenticateSession(session, ctx);
    // CSRF (design.md §4): cookie-authenticated state changes carry the session's CSRF token.
    if (UNSAFE_METHODS.has(request.method)) {
      const csrf = request.headers[CSRF_HEADER];
      if (typeof csrf !== 'string' || !(await deps.auth.verifyCsrf(session, csrf))) {
        throw new VigilError('VIGIL_AUTH_CSRF', 'missing or invalid CSRF token');
      }
    }
  });

  // Authorization runs after validation so a scope function can read params and body.
  app.addHook('preHandler', async (request: FastifyRequest, _reply: FastifyReply) => {
    const declared = request.routeOptions.config.access;
    if (declared === undefined || declared.kind === 'setup' || declared.kind === 'public' || declared.kind === 'self') return;
    const principal = request.principal;
    if (principal === null) throw new VigilError('VIGIL_AUTH_REQUIRED', 'authentication required');
    const restricted = restrictedReason(principal);
    if (restricted === 'password-change') {
      throw new VigilError('VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED', 'the password must be changed before anything else');
    }
    if (restricted === 'mfa-enrolment') {
      throw new VigilError('VIGIL_AUTH_MFA_ENROLMENT_REQUIRED', 'a second factor (TOTP or passkey) must be enrolled before anything else');
    }
    if (declared.kind === 'user') return;
    const resource = declared.scope?.(request);
    if (!authorize(principal, declared.permission, resource)) {
      deps.audit.record({
        category: 'auth',
        action: 'access.denied',
        actor: `user:${principal.username}`,
        source: request.ip,
        target: resource === undefined ? request.routeOptions.url ?? '' : `${resource.kind}:${resource.id}`,
        outcome: 'denied',
        details: { permission: declared.permission, method: request.method },
      });
      throw new VigilError('VIGIL_FORBIDDEN', 'not permitted');
    }
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
  if (match === null) throw new VigilError('VIGIL_AUTH_REQUIRED', 'malformed Authorization header');
  return match[1];
}
