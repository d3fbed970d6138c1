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
import type { WebauthnCredentialRow } from './repositories/webauthn-credentials.ts';
import type { UserRow } from './repositories/users.ts';
import type { SessionService } from './session-service.ts';
import type { RequestContext, WebauthnCredentialView } from './types.ts';

export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * MINUTE_MS;
const CHALLENGES_MAX = 1000;
const CREDENTIALS_PER_USER = 10;
const NAME = /^[^\p{Cc}]{1,64}$/u;

function transportsOf(row: WebauthnCredentialRow): string[] {
  const parsed: unknown = JSON.parse(row.transports);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

export class WebauthnService {
  readonly #core: IdentityCore;
  readonly #sessions: SessionService;
  /** Registration challenges by user id. */
  readonly #registrations: BoundedTtlMap<string, string>;

  constructor(core: IdentityCore, sessions: SessionService) {
    this.#core = core;
    this.#sessions = sessions;
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
    expectedOrigin: string,
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
    return { id: credential.id, name, transports, createdAt: now };
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
  async verifyAssertion(user: UserRow, challenge: string, response: AuthenticationResponseJSON, expectedOrigin: string): Promise<boolean> {
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
    // Authenticators that keep no counter report 0 forever; otherwise it must move forward, and
    // only one of two concurrent assertions can move it.
    if (newCounter === 0 && stored.counter === 0) return true;
    return repos.webauthnCredentials.advanceCounter(stored.id, stored.counter, newCounter);
  }

  async list(userId: string): Promise<WebauthnCredentialView[]> {
    const rows = await this.#core.repos.webauthnCredentials.listByUser(userId);
    return rows.map((r) => ({ id: r.id, name: r.name, transports: transportsOf(r), createdAt: r.created_at }));
  }

  async remove(userId: string, credentialId: string, ctx: RequestContext): Promise<void> {
    const user = await mustFindUser(this.#core, userId);
    const removed = await this.#core.repos.webauthnCredentials.delete(user.id, credentialId);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.mfa.webauthn.remove', target: `user:${user.username}`, outcome: removed ? 'success' : 'failure' });
    if (!removed) throw new VigilError('VIGIL_NOT_FOUND', 'no such security key');
  }

  forgetPending(userId: string): void {
    this.#registrations.delete(userId);
  }
}
