// WebAuthn second factor (NVR-5.4.1.2a) with @simplewebauthn/server. Only public keys are
// stored. Challenges are random, one-time and live 5 minutes; the signature counter must grow
// (a cloned authenticator or a replayed assertion is refused — NVR-5.4.1.1a). The relying-party
// ID comes from configuration; the expected origin from the HTTP layer, which knows it.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { VigilError } from '../core/errors.ts';
import { BoundedTtlMap } from './bounded-ttl-map.ts';
import { MINUTE_MS, mustFindUser, recordEvent, type IdentityCore } from './core.ts';
import { mfaRequiredFor } from './principal.ts';
import type { PrincipalLoader } from './principal-loader.ts';
import type { WebauthnCredentialRow } from './repositories/webauthn-credentials.ts';
import type { UserRow } from './repositories/users.ts';
import type { SessionService } from './session-service.ts';
import type { MfaStatus, RequestContext, WebauthnCredentialView } from './types.ts';

export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * MINUTE_MS;
const CHALLENGES_MAX = 1000;
const CREDENTIALS_PER_USER = 10;
const NAME = /^[^\p{Cc}]{1,64}$/u;

function viewOf(row: WebauthnCredentialRow): WebauthnCredentialView {
  return { id: row.id, name: row.name, transports: transportsOf(row), createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

function transportsOf(row: WebauthnCredentialRow): string[] {
  const parsed: unknown = JSON.parse(row.transports);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

export class WebauthnService {
  readonly #core: IdentityCore;
  readonly #sessions: SessionService;
  readonly #principals: PrincipalLoader;
  /** Registration challenges by user id. */
  readonly #registrations: BoundedTtlMap<string, string>;

  constructor(core: IdentityCore, sessions: SessionService, principals: PrincipalLoader) {
    this.#core = core;
    this.#sessions = sessions;
    this.#principals = principals;
    this.#registrations = new BoundedTtlMap({ capacity: CHALLENGES_MAX, ttlMs: WEBAUTHN_CHALLENGE_TTL_MS, clock: core.clock });
  }

  async registrationOptions(userId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { config, repos } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const existing = await repos.webauthnCredentials.listByUser(user.id);
    if (existing.length >= CREDENTIALS_PER_USER) throw new VigilError('VIGIL_CONFLICT', `at most ${CREDENTIALS_PER_USER} security keys per user`);
    const options = await generateRegistrationOptions({
      rpName: config.webauthnRpName,
      rpID: config.webauthnRpId,
      userName: user.username,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: transportsOf(c) })),
      authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
    });
    this.#registrations.set(user.id, options.challenge);
    return options;
  }

  async registrationVerify(
    userId: string,
    response: RegistrationResponseJSON,
    expectedOrigin: string | string[],
    name: string,
    ctx: RequestContext,
  ): Promise<WebauthnCredentialView> {
    const { config, repos, clock } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    if (!NAME.test(name)) throw new VigilError('VIGIL_VALIDATION', 'security key name must be 1 to 64 printable characters');
    const challenge = this.#registrations.take(user.id);
    const fail = (reason: string): VigilError => {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.webauthn.register', target, outcome: 'failure', details: { reason } });
      return new VigilError('VIGIL_MFA_ENROLMENT_FAILED', 'the security key registration was not accepted; start again');
    };
    if (challenge === undefined) throw fail('no-challenge');
    let credential;
    try {
      const verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin,
        expectedRPID: config.webauthnRpId,
        // A second factor after the password: presence is required, verification optional.
        requireUserVerification: false,
      });
      if (!verified.verified) throw fail('not-verified');
      credential = verified.registrationInfo.credential;
    } catch (err) {
      if (err instanceof VigilError) throw err;
      throw fail(err instanceof Error ? err.message.slice(0, 120) : 'invalid');
    }
    if ((await repos.webauthnCredentials.find(credential.id)) !== undefined) throw fail('duplicate-credential');
    const now = clock.now();
    const transports = credential.transports ?? [];
    await this.#sessions.passEnrollingSession(user.id, ctx);
    await repos.webauthnCredentials.insert({
      id: credential.id,
      user_id: user.id,
      public_key: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: JSON.stringify(transports),
      name,
      created_at: now,
    });
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.webauthn.register', target, outcome: 'success', details: { label: name } });
    return { id: credential.id, name, transports, createdAt: now, lastUsedAt: null };
  }

  /** Options for an assertion by one of the user's credentials (the login's second step). */
  async authenticationOptions(user: UserRow): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const credentials = await this.#core.repos.webauthnCredentials.listByUser(user.id);
    if (credentials.length === 0) throw new VigilError('VIGIL_AUTH_MFA_FAILED', 'no security key is registered for this user');
    return generateAuthenticationOptions({
      rpID: this.#core.config.webauthnRpId,
      allowCredentials: credentials.map((c) => ({ id: c.id, transports: transportsOf(c) })),
      userVerification: 'preferred',
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    });
  }

  /** Verifies an assertion against a challenge already taken (one-time) by the caller. */
  async verifyAssertion(user: UserRow, challenge: string, response: AuthenticationResponseJSON, expectedOrigin: string | string[]): Promise<boolean> {
    const { repos, config } = this.#core;
    const stored = await repos.webauthnCredentials.find(response.id);
    if (stored === undefined || stored.user_id !== user.id) return false;
    let newCounter: number;
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin,
        expectedRPID: config.webauthnRpId,
        credential: { id: stored.id, publicKey: new Uint8Array(stored.public_key), counter: stored.counter, transports: transportsOf(stored) },
        requireUserVerification: false,
      });
      if (!result.verified) return false;
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      // A malformed or forged assertion, a wrong origin/RP, or a counter that did not grow: the
      // caller records and counts the failure; the library's reason is not shown to the client.
      return false;
    }
    const now = this.#core.clock.now();
    // Authenticators that keep no counter report 0 forever (the challenge alone stops a replay);
    // otherwise it must move forward, and only one of two concurrent assertions can move it.
    if (newCounter === 0 && stored.counter === 0) {
      await repos.webauthnCredentials.advanceCounter(stored.id, 0, 0, now);
      return true;
    }
    return repos.webauthnCredentials.advanceCounter(stored.id, stored.counter, newCounter, now);
  }

  async list(userId: string): Promise<WebauthnCredentialView[]> {
    const rows = await this.#core.repos.webauthnCredentials.listByUser(userId);
    return rows.map(viewOf);
  }

  /** What the Account page shows: the second factors and whether the user's roles need one. */
  async status(userId: string): Promise<MfaStatus> {
    const user = await mustFindUser(this.#core, userId);
    const grants = await this.#principals.grants(user.id);
    return { required: mfaRequiredFor(grants, this.#core.config.mfaRequiredRoles), totpEnabled: user.totp_enabled === 1, passkeys: await this.list(user.id) };
  }

  /**
   * The user removes one of their own credentials. NVR-5.4.1.2a: when a role of the user
   * requires a second factor, the last one cannot be removed (the user would be sent straight
   * back to enrolment, and meanwhile hold a session without a factor); an administrator's MFA
   * reset (`resetMfa`) is the way out for a lost key.
   */
  async remove(userId: string, credentialId: string, ctx: RequestContext): Promise<void> {
    const { repos, config, clock } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    const required = mfaRequiredFor(await this.#principals.grants(user.id), config.mfaRequiredRoles);
    const label = (await repos.webauthnCredentials.find(credentialId))?.name;
    const refuse = (remaining: number): boolean => required && remaining === 0 && user.totp_enabled !== 1;
    const result = await repos.webauthnCredentials.deleteUnless(user.id, credentialId, refuse, clock.now());
    const named: Record<string, string> = label === undefined ? {} : { label };
    if (result === 'kept') {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.webauthn.remove', target, outcome: 'denied', details: { ...named, reason: 'last-second-factor' } });
      throw new VigilError('VIGIL_MFA_LAST_FACTOR', 'this is your last second factor and your role requires one: add another passkey or an authenticator app first');
    }
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.webauthn.remove', target, outcome: result === 'deleted' ? 'success' : 'failure', details: result === 'deleted' ? named : { reason: 'not-found' } });
    if (result === 'missing') throw new VigilError('VIGIL_NOT_FOUND', 'no such passkey');
  }

  forgetPending(userId: string): void {
    this.#registrations.delete(userId);
  }
}
