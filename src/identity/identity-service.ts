// The identity component's one door: setup, users and roles, passwords, login with MFA,
// sessions and API tokens. Each concern lives in its own service; this class wires them over
// one set of repositories and is what the HTTP layer and the CLI hold.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { ApiTokenService } from './api-token-service.ts';
import { mustFindUser, recordEvent, type IdentityCore, type PasswordListener } from './core.ts';
import { isAllowed, type Permission, type ResourceScope } from './permissions.ts';
import { canonicalUsername } from './username.ts';
import { LoginLockout } from './lockout.ts';
import { LoginNoticeBoard, type BoardNotice } from './login-notice-board.ts';
import { LoginNotifier } from './login-notifier.ts';
import { LoginService } from './login-service.ts';
import { PasswordService } from './password-service.ts';
import { PrincipalLoader } from './principal-loader.ts';
import { identityRepositories } from './repositories/index.ts';
import { SessionService } from './session-service.ts';
import { SetupService } from './setup-service.ts';
import { TotpService } from './totp-service.ts';
import type {
  ApiTokenView,
  GrantInput,
  IdentityDeps,
  IssuedSession,
  LoginInput,
  LoginListener,
  LoginResult,
  MfaStatus,
  NewApiToken,
  NewUserInput,
  Principal,
  RequestContext,
  SessionView,
  TotpEnrolment,
  UserPatch,
  UserView,
  WebauthnCredentialView,
} from './types.ts';
import { UserService } from './user-service.ts';
import { WebauthnService } from './webauthn-service.ts';

export class IdentityService {
  readonly #core: IdentityCore;
  readonly #setup: SetupService;
  readonly #users: UserService;
  readonly #passwords: PasswordService;
  readonly #sessions: SessionService;
  readonly #login: LoginService;
  readonly #notifier: LoginNotifier;
  readonly #notices: LoginNoticeBoard;
  readonly #totp: TotpService;
  readonly #webauthn: WebauthnService;
  readonly #apiTokens: ApiTokenService;
  readonly #principals: PrincipalLoader;
  readonly #lockout: LoginLockout;

  constructor(deps: IdentityDeps) {
    const core: IdentityCore = {
      repos: identityRepositories(deps.store),
      sealer: deps.sealer,
      hasher: deps.hasher,
      audit: deps.audit,
      alarms: deps.alarms,
      clock: deps.clock,
      config: deps.config,
      passwordListeners: [],
    };
    this.#core = core;
    const principals = new PrincipalLoader(core);
    const lockout = new LoginLockout(core);
    this.#principals = principals;
    this.#lockout = lockout;
    this.#sessions = new SessionService(core, principals);
    this.#notifier = new LoginNotifier(core);
    this.#notices = new LoginNoticeBoard(core.clock);
    this.#notifier.onLogin((notice) => this.#notices.record(notice));
    this.#users = new UserService(core, principals, this.#sessions, lockout);
    this.#setup = new SetupService(core, this.#users);
    this.#passwords = new PasswordService(core, this.#sessions, lockout);
    this.#totp = new TotpService(core, this.#sessions);
    this.#webauthn = new WebauthnService(core, this.#sessions, principals);
    this.#apiTokens = new ApiTokenService(core, principals);
    this.#login = new LoginService(core, { principals, sessions: this.#sessions, lockout, notifier: this.#notifier, totp: this.#totp, webauthn: this.#webauthn });
  }

  // — other protocols (RTSP Digest, ONVIF): same accounts, same lockout (CAM-T-auth-4)

  /** Derived verifiers (e.g. RTSP Digest HA1) are made when a password is set; never stored in clear. */
  onPasswordSet(listener: PasswordListener): void {
    this.#core.passwordListeners.push(listener);
  }

  /** May this name try to authenticate now (not locked out, not disabled)? Unknown names are "allowed" to fail. */
  async externalLoginAllowed(rawUsername: string): Promise<boolean> {
    const username = canonicalUsername(rawUsername);
    const key = username ?? rawUsername.slice(0, 64).toLowerCase();
    const user = username === null ? undefined : await this.#core.repos.users.findByUsername(username);
    return !this.#lockout.isLocked(user, key) && user?.disabled !== 1;
  }

  /** Records the outcome of an authentication done by another protocol: audited, and failures count towards the lockout. */
  async externalLoginResult(rawUsername: string, ok: boolean, ctx: RequestContext, via: string): Promise<void> {
    const username = canonicalUsername(rawUsername);
    const key = username ?? rawUsername.slice(0, 64).toLowerCase();
    const user = username === null ? undefined : await this.#core.repos.users.findByUsername(username);
    recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.login', target: `user:${key}`, outcome: ok ? 'success' : 'failure', details: { via } });
    if (ok && user !== undefined) {
      await this.#lockout.recordSuccess(user);
      await this.#notifier.notifyIfNewSource(user, ctx);
    } else await this.#lockout.recordFailure(user, key, ctx);
  }

  /**
   * Checks a password received by another protocol (ONVIF PasswordText over TLS) with the normal
   * password hash; unknown and disabled users cost the same work (NVR-5.4.1.1b). Does not record
   * the outcome: the caller reports it with externalLoginResult.
   */
  async verifyExternalPassword(rawUsername: string, password: string): Promise<boolean> {
    const username = canonicalUsername(rawUsername);
    const user = username === null ? undefined : await this.#core.repos.users.findByUsername(username);
    if (user === undefined) return this.#core.hasher.verifyDummy(password);
    const ok = await this.#core.hasher.verify(password, user.password_hash);
    return ok && user.disabled !== 1;
  }

  /** Does the account hold `permission` (any scope)? For protocols without sessions. */
  async userHasPermission(rawUsername: string, permission: Permission, resource?: ResourceScope): Promise<boolean> {
    const username = canonicalUsername(rawUsername);
    const user = username === null ? undefined : await this.#core.repos.users.findByUsername(username);
    if (user === undefined || user.disabled === 1 || user.must_change_password === 1) return false;
    return isAllowed(await this.#principals.grants(user.id), permission, resource);
  }

  // — setup (NVR-5.4.2.1b, ACS-5.1.1.1)
  setupRequired(): Promise<boolean> {
    return this.#setup.setupRequired();
  }
  createSetupToken(): string {
    return this.#setup.createSetupToken();
  }
  completeSetup(token: string, input: { username: string; password: string }, ctx: RequestContext): Promise<UserView> {
    return this.#setup.completeSetup(token, input, ctx);
  }
  setupFromConsole(input: { username: string; password: string }, ctx: RequestContext): Promise<UserView> {
    return this.#setup.setupFromConsole(input, ctx);
  }

  // — login (NVR-5.4.1.1b, NVR-5.4.1.2a, NVR-5.4.2.1d)
  login(input: LoginInput, ctx: RequestContext): Promise<LoginResult> {
    return this.#login.login(input, ctx);
  }
  loginMfaTotp(mfaToken: string, code: string, ctx: RequestContext): Promise<IssuedSession> {
    return this.#login.loginMfaTotp(mfaToken, code, ctx);
  }
  loginMfaWebauthnOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.#login.loginMfaWebauthnOptions(mfaToken);
  }
  loginMfaWebauthnVerify(mfaToken: string, response: AuthenticationResponseJSON, expectedOrigin: string | string[], ctx: RequestContext): Promise<IssuedSession> {
    return this.#login.loginMfaWebauthnVerify(mfaToken, response, expectedOrigin, ctx);
  }
  /** CAM-T-priv-2: called after every successful login; returns the unsubscribe function. */
  onLogin(listener: LoginListener): () => void {
    return this.#notifier.onLogin(listener);
  }
  /**
   * CAM-T-priv-2: logins to the account after the cursor `afterId`, the asking session's own
   * left out; without a cursor only the current cursor (a session starts from "now").
   */
  loginNotices(principal: Principal, afterId: number | undefined): { latest: number; notices: BoardNotice[] } {
    const latest = this.#notices.latest;
    if (afterId === undefined) return { latest, notices: [] };
    // A cursor ahead of the board was given before a restart: everything on the board is new.
    return { latest, notices: this.#notices.since(principal.userId, afterId > latest ? 0 : afterId, principal.sessionIdHash) };
  }

  // — sessions (NVR-5.4.3.1b, ACS-5.2.1.13)
  authenticateSession(token: string, ctx: RequestContext): Promise<Principal> {
    return this.#sessions.authenticate(token, ctx);
  }
  rotateCsrf(token: string): Promise<{ csrfToken: string; idleTimeoutMs: number }> {
    return this.#sessions.rotateCsrf(token);
  }
  verifyCsrf(token: string, csrfToken: string): Promise<boolean> {
    return this.#sessions.verifyCsrf(token, csrfToken);
  }
  logout(token: string, ctx: RequestContext): Promise<void> {
    return this.#sessions.logout(token, ctx);
  }
  logoutEverywhere(userId: string, ctx: RequestContext): Promise<number> {
    return this.#sessions.endAllOfUser(userId, 'logout-everywhere', ctx);
  }
  listSessions(userId: string): Promise<SessionView[]> {
    return this.#sessions.list(userId);
  }
  /** An administrator ends every session of another user (or their own): ACS-5.2.1.13. */
  async adminLogoutEverywhere(userId: string, ctx: RequestContext): Promise<number> {
    const user = await mustFindUser(this.#core, userId);
    const count = await this.#sessions.endAllOfUser(user.id, 'admin-logout', ctx);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.sessions.revoke', target: `user:${user.username}`, outcome: 'success', details: { count } });
    return count;
  }
  async listSessionsOfUser(userId: string): Promise<SessionView[]> {
    const user = await mustFindUser(this.#core, userId);
    return this.#sessions.list(user.id);
  }
  revokeSession(userId: string, sessionId: string, ctx: RequestContext): Promise<void> {
    return this.#sessions.revoke(userId, sessionId, ctx);
  }
  purgeExpiredSessions(): Promise<number> {
    return this.#sessions.purgeExpired();
  }

  // — users and roles
  createUser(input: NewUserInput, ctx: RequestContext): Promise<UserView> {
    return this.#users.create(input, ctx);
  }
  getUser(userId: string): Promise<UserView> {
    return this.#users.get(userId);
  }
  getUserByUsername(username: string): Promise<UserView> {
    return this.#users.getByUsername(username);
  }
  listUsers(page?: { limit?: number; offset?: number }): Promise<UserView[]> {
    return this.#users.list(page);
  }
  updateUser(userId: string, patch: UserPatch, ctx: RequestContext): Promise<UserView> {
    return this.#users.update(userId, patch, ctx);
  }
  deleteUser(userId: string, ctx: RequestContext): Promise<void> {
    return this.#users.delete(userId, ctx);
  }
  grantRole(userId: string, grant: GrantInput, ctx: RequestContext): Promise<UserView> {
    return this.#users.grantRole(userId, grant, ctx);
  }
  revokeRole(userId: string, grant: GrantInput, ctx: RequestContext): Promise<UserView> {
    return this.#users.revokeRole(userId, grant, ctx);
  }
  unlockUser(userId: string, ctx: RequestContext): Promise<void> {
    return this.#users.unlock(userId, ctx);
  }

  // — passwords (NVR-5.4.2.1a/c, ACS-5.1.3.1)
  changePassword(userId: string, current: string, next: string, ctx: RequestContext): Promise<IssuedSession> {
    return this.#passwords.changePassword(userId, current, next, ctx);
  }
  adminResetPassword(userId: string, newPassword: string, ctx: RequestContext): Promise<void> {
    return this.#passwords.adminResetPassword(userId, newPassword, ctx);
  }

  // — second factors (NVR-5.4.1.2a)
  totpEnrolStart(userId: string): Promise<TotpEnrolment> {
    return this.#totp.enrolStart(userId);
  }
  totpEnrolConfirm(userId: string, code: string, ctx: RequestContext): Promise<void> {
    return this.#totp.enrolConfirm(userId, code, ctx);
  }
  webauthnRegistrationOptions(userId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.#webauthn.registrationOptions(userId);
  }
  webauthnRegistrationVerify(userId: string, response: RegistrationResponseJSON, expectedOrigin: string | string[], name: string, ctx: RequestContext): Promise<WebauthnCredentialView> {
    return this.#webauthn.registrationVerify(userId, response, expectedOrigin, name, ctx);
  }
  listWebauthnCredentials(userId: string): Promise<WebauthnCredentialView[]> {
    return this.#webauthn.list(userId);
  }
  mfaStatus(userId: string): Promise<MfaStatus> {
    return this.#webauthn.status(userId);
  }
  removeWebauthnCredential(userId: string, credentialId: string, ctx: RequestContext): Promise<void> {
    return this.#webauthn.remove(userId, credentialId, ctx);
  }
  /** An administrator removes every second factor of a user who lost them; sessions end. */
  async resetMfa(userId: string, ctx: RequestContext): Promise<void> {
    const user = await mustFindUser(this.#core, userId);
    await this.#totp.disable(user);
    this.#webauthn.forgetPending(user.id);
    const removed = await this.#core.repos.webauthnCredentials.deleteAllOfUser(user.id);
    await this.#sessions.endAllOfUser(user.id, 'mfa-reset', ctx);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.reset', target: `user:${user.username}`, outcome: 'success', details: { securityKeys: removed } });
  }

  // — API tokens (ACS-5.1.1.9)
  createApiToken(userId: string, input: { name: string; expiresAt?: number | null }, ctx: RequestContext): Promise<NewApiToken> {
    return this.#apiTokens.create(userId, input, ctx);
  }
  listApiTokens(userId: string): Promise<ApiTokenView[]> {
    return this.#apiTokens.list(userId);
  }
  revokeApiToken(userId: string, tokenId: string, ctx: RequestContext): Promise<void> {
    return this.#apiTokens.revoke(userId, tokenId, ctx);
  }
  authenticateApiToken(token: string, ctx?: RequestContext): Promise<Principal> {
    return this.#apiTokens.authenticate(token, ctx);
  }
}
