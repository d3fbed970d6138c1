// Users and their roles. No default account ever exists (NVR-5.4.2.1b, ACS-5.1.1.1): users are
// made by the first-run setup or by an administrator, and a new user must change the password
// at first access (NVR-5.4.2.1c). Role changes, disabling and deletion end the user's sessions
// at once (ACS-5.2.1.13); the last enabled global administrator cannot be removed.
import { randomUUID } from 'node:crypto';
import { VigilError } from '../core/errors.ts';
import { SerialQueue, mustFindUser, notifyPasswordSet, recordEvent, type IdentityCore } from './core.ts';
import { describeGrant, isGlobalAdministrator, validateGrant } from './grants.ts';
import type { LoginLockout } from './lockout.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import type { Grant } from './permissions.ts';
import type { PrincipalLoader } from './principal-loader.ts';
import { EMPTY_PROFILE, openProfile, sealProfile, validateProfile } from './profile.ts';
import type { UserRow } from './repositories/users.ts';
import type { SessionService } from './session-service.ts';
import type { GrantInput, NewUserInput, RequestContext, UserPatch, UserView } from './types.ts';
import { normaliseUsername } from './username.ts';

const LIST_MAX = 1000;

export interface NewAccount {
  username: string;
  password: string;
  displayName?: string;
  email?: string;
  grants: Grant[];
  mustChangePassword: boolean;
}

export class UserService {
  readonly #core: IdentityCore;
  readonly #principals: PrincipalLoader;
  readonly #sessions: SessionService;
  readonly #lockout: LoginLockout;
  /** Serialises changes that can remove an administrator (last-admin rule). */
  readonly adminChanges = new SerialQueue();

  constructor(core: IdentityCore, principals: PrincipalLoader, sessions: SessionService, lockout: LoginLockout) {
    this.#core = core;
    this.#principals = principals;
    this.#sessions = sessions;
    this.#lockout = lockout;
  }

  /** An administrator creates a user; the user must change the password at first access. */
  async create(input: NewUserInput, ctx: RequestContext): Promise<UserView> {
    const grants = (input.grants ?? []).map(validateGrant);
    const account: NewAccount = { username: input.username, password: input.password, grants, mustChangePassword: true };
    if (input.displayName !== undefined) account.displayName = input.displayName;
    if (input.email !== undefined) account.email = input.email;
    const user = await this.createAccount(account, ctx);
    return this.view(user);
  }

  async createAccount(account: NewAccount, ctx: RequestContext): Promise<UserRow> {
    const { repos, hasher, clock, sealer } = this.#core;
    const username = normaliseUsername(account.username);
    assertPasswordPolicy({ password: account.password, username, minLength: this.#core.config.passwordMinLength });
    const profilePatch: { displayName?: string; email?: string } = {};
    if (account.displayName !== undefined) profilePatch.displayName = account.displayName;
    if (account.email !== undefined) profilePatch.email = account.email;
    const profile = validateProfile(profilePatch, EMPTY_PROFILE);
    if ((await repos.users.findByUsername(username)) !== undefined) {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.create', target: `user:${username}`, outcome: 'failure', details: { reason: 'exists' } });
      throw new VigilError('VIGIL_USER_EXISTS', `user ${username} already exists`);
    }
    const id = randomUUID();
    const now = clock.now();
    const passwordHash = await hasher.hash(account.password);
    await repos.users.insert({
      id,
      username,
      password_hash: passwordHash,
      password_changed_at: now,
      must_change_password: account.mustChangePassword ? 1 : 0,
      disabled: 0,
      failed_logins: 0,
      last_failed_at: null,
      locked_until: null,
      profile_sealed: await sealProfile(sealer, id, profile),
      totp_secret_sealed: null,
      totp_enabled: 0,
      totp_last_step: null,
      created_at: now,
      updated_at: now,
    });
    await repos.passwordHistory.insert({ userId: id, passwordHash, createdAt: now });
    await notifyPasswordSet(this.#core, { id, username }, account.password);
    for (const grant of account.grants) {
      await repos.roleGrants.insert({ id: randomUUID(), userId: id, createdAt: now, role: grant.role, scopeKind: grant.scopeKind, scopeId: grant.scopeId });
    }
    recordEvent(this.#core, ctx, {
      category: 'user',
      action: 'user.create',
      target: `user:${username}`,
      outcome: 'success',
      details: { grants: account.grants.map(describeGrant).join(','), mustChangePassword: account.mustChangePassword },
    });
    return mustFindUser(this.#core, id);
  }

  async get(userId: string): Promise<UserView> {
    return this.view(await mustFindUser(this.#core, userId));
  }

  async getByUsername(username: string): Promise<UserView> {
    const user = await this.#core.repos.users.findByUsername(normaliseUsername(username));
    if (user === undefined) throw new VigilError('VIGIL_USER_NOT_FOUND', 'no such user');
    return this.view(user);
  }

  async list(page: { limit?: number; offset?: number } = {}): Promise<UserView[]> {
    const limit = Math.min(Math.max(Math.trunc(page.limit ?? 100), 1), LIST_MAX);
    const offset = Math.max(Math.trunc(page.offset ?? 0), 0);
    const rows = await this.#core.repos.users.list(limit, offset);
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async update(userId: string, patch: UserPatch, ctx: RequestContext): Promise<UserView> {
    return this.adminChanges.run(async () => {
      const { repos, sealer, clock } = this.#core;
      const user = await mustFindUser(this.#core, userId);
      const changes: Parameters<typeof repos.users.update>[1] = { updated_at: clock.now() };
      const changed: string[] = [];
      if (patch.displayName !== undefined || patch.email !== undefined) {
        const profilePatch: { displayName?: string; email?: string } = {};
        if (patch.displayName !== undefined) profilePatch.displayName = patch.displayName;
        if (patch.email !== undefined) profilePatch.email = patch.email;
        const profile = validateProfile(profilePatch, await openProfile(sealer, user.id, user.profile_sealed));
        changes.profile_sealed = await sealProfile(sealer, user.id, profile);
        changed.push('profile');
      }
      const disabling = patch.disabled === true && user.disabled === 0;
      if (disabling) await this.#assertNotLastAdmin(user, ctx);
      if (patch.disabled !== undefined && (patch.disabled ? 1 : 0) !== user.disabled) {
        changes.disabled = patch.disabled ? 1 : 0;
        changed.push(patch.disabled ? 'disabled' : 'enabled');
      }
      await repos.users.update(user.id, changes);
      if (disabling) {
        await this.#sessions.endAllOfUser(user.id, 'disabled', ctx);
        await repos.apiTokens.revokeAllOfUser(user.id);
      }
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.update', target: `user:${user.username}`, outcome: 'success', details: { changed: changed.join(',') } });
      return this.get(user.id);
    });
  }

  async delete(userId: string, ctx: RequestContext): Promise<void> {
    await this.adminChanges.run(async () => {
      const user = await mustFindUser(this.#core, userId);
      await this.#assertNotLastAdmin(user, ctx);
      // Sessions, grants, history, credentials and tokens go with the row (ON DELETE CASCADE).
      await this.#core.repos.users.delete(user.id);
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.delete', target: `user:${user.username}`, outcome: 'success' });
    });
  }

  async grantRole(userId: string, input: GrantInput, ctx: RequestContext): Promise<UserView> {
    const grant = validateGrant(input);
    return this.adminChanges.run(async () => {
      const user = await mustFindUser(this.#core, userId);
      const added = await this.#core.repos.roleGrants.insert({ id: randomUUID(), userId: user.id, createdAt: this.#core.clock.now(), ...grant });
      if (added) await this.#sessions.endAllOfUser(user.id, 'role-change', ctx);
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.role.grant', target: `user:${user.username}`, outcome: 'success', details: { grant: describeGrant(grant), changed: added } });
      return this.view(user);
    });
  }

  async revokeRole(userId: string, input: GrantInput, ctx: RequestContext): Promise<UserView> {
    const grant = validateGrant(input);
    return this.adminChanges.run(async () => {
      const user = await mustFindUser(this.#core, userId);
      if (isGlobalAdministrator(grant)) await this.#assertNotLastAdmin(user, ctx);
      const removed = await this.#core.repos.roleGrants.delete(user.id, grant);
      if (removed) await this.#sessions.endAllOfUser(user.id, 'role-change', ctx);
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.role.revoke', target: `user:${user.username}`, outcome: 'success', details: { grant: describeGrant(grant), changed: removed } });
      return this.view(user);
    });
  }

  /** An administrator lifts a lockout before it expires. */
  async unlock(userId: string, ctx: RequestContext): Promise<void> {
    const user = await mustFindUser(this.#core, userId);
    await this.#lockout.unlock(user);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.unlock', target: `user:${user.username}`, outcome: 'success' });
  }

  async view(user: UserRow): Promise<UserView> {
    const [profile, grants, credentials, lastLogin] = await Promise.all([
      openProfile(this.#core.sealer, user.id, user.profile_sealed),
      this.#principals.grants(user.id),
      this.#core.repos.webauthnCredentials.countByUser(user.id),
      this.#core.repos.loginSources.latest(user.id),
    ]);
    return {
      id: user.id,
      username: user.username,
      displayName: profile.displayName,
      email: profile.email,
      grants,
      disabled: user.disabled === 1,
      mustChangePassword: user.must_change_password === 1,
      passwordChangedAt: user.password_changed_at,
      lockedUntil: user.locked_until !== null && user.locked_until > this.#core.clock.now() ? user.locked_until : null,
      totpEnabled: user.totp_enabled === 1,
      webauthnCredentials: credentials,
      createdAt: user.created_at,
      updatedAt: user.updated_at,
      lastLoginAt: lastLogin?.at ?? null,
      lastLoginFrom: lastLogin?.sourceIp ?? null,
    };
  }

  /** The system always keeps one enabled global administrator. */
  async #assertNotLastAdmin(user: UserRow, ctx: RequestContext): Promise<void> {
    if (user.disabled === 1) return;
    const grants = await this.#principals.grants(user.id);
    if (!grants.some(isGlobalAdministrator)) return;
    const others = await this.#core.repos.roleGrants.countEnabledGlobalHolders('administrator', user.id);
    if (others > 0) return;
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.change', target: `user:${user.username}`, outcome: 'denied', details: { reason: 'last-admin' } });
    throw new VigilError('VIGIL_LAST_ADMIN', 'the last enabled administrator cannot be removed, disabled or demoted');
  }
}
