// Builds a Principal from what is stored: the user's grants, second factors and password age.
import { DAY_MS, type IdentityCore } from './core.ts';
import { isRole, type Grant, type ScopeKind } from './permissions.ts';
import { SCOPE_KINDS } from './permissions.ts';
import { mfaRequiredFor } from './principal.ts';
import type { UserRow } from './repositories/users.ts';
import type { MfaMethod, Principal } from './types.ts';

export type PrincipalAuth = { method: 'session'; sessionIdHash: string; mfaPassed: boolean } | { method: 'api-token' };

function isScopeKind(value: string): value is ScopeKind {
  return (SCOPE_KINDS as readonly string[]).includes(value);
}

export class PrincipalLoader {
  readonly #core: IdentityCore;
  constructor(core: IdentityCore) {
    this.#core = core;
  }

  /** Stored grants; a row naming a role or scope this version does not know grants nothing. */
  async grants(userId: string): Promise<Grant[]> {
    const rows = await this.#core.repos.roleGrants.listByUser(userId);
    const grants: Grant[] = [];
    for (const row of rows) {
      if (isRole(row.role) && isScopeKind(row.scope_kind)) grants.push({ role: row.role, scopeKind: row.scope_kind, scopeId: row.scope_id });
    }
    return grants;
  }

  async mfaMethods(user: UserRow): Promise<MfaMethod[]> {
    const methods: MfaMethod[] = [];
    if (user.totp_enabled === 1) methods.push('totp');
    if ((await this.#core.repos.webauthnCredentials.countByUser(user.id)) > 0) methods.push('webauthn');
    return methods;
  }

  async load(user: UserRow, auth: PrincipalAuth): Promise<Principal> {
    const [grants, methods] = await Promise.all([this.grants(user.id), this.mfaMethods(user)]);
    return this.build(user, grants, methods.length > 0, auth);
  }

  build(user: UserRow, grants: Grant[], hasMfaMethod: boolean, auth: PrincipalAuth): Principal {
    const { config, clock } = this.#core;
    const now = clock.now();
    const expiresAt = user.password_changed_at + config.passwordMaxAgeDays * DAY_MS;
    const isToken = auth.method === 'api-token';
    const principal: Principal = {
      userId: user.id,
      username: user.username,
      grants,
      authMethod: auth.method,
      // A machine token is its own credential, issued by a user who passed MFA to create it.
      mfaPassed: isToken ? true : auth.mfaPassed,
      // NVR-5.4.1.2a: a role that requires MFA and no factor enrolled → enrolment only.
      mfaEnrolmentRequired: !isToken && !hasMfaMethod && mfaRequiredFor(grants, config.mfaRequiredRoles),
      // NVR-5.4.2.1c first access / ACS-5.1.3.1 maximum age.
      passwordChangeRequired: !isToken && (user.must_change_password === 1 || now >= expiresAt),
      passwordExpiresInDays: Math.floor((expiresAt - now) / DAY_MS),
    };
    if (auth.method === 'session') principal.sessionIdHash = auth.sessionIdHash;
    return principal;
  }
}
