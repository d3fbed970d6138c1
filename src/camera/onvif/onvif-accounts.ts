// ONVIF accounts of the camera role are Vigil accounts (CAM-T-auth-1/4/5), as for RTSP
// (rtsp-accounts.ts). WS-Security PasswordDigest needs the password itself on the device, so it
// is captured on every password set while the camera role is enabled, sealed by the keyring
// under its own purpose, and dropped when the role is turned off. PasswordText is accepted only
// over TLS and checked against the normal password hash. Locked-out or disabled accounts are
// refused; the caller reports each outcome to the shared lockout and audit.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { IdentityService } from '../../identity/identity-service.ts';
import type { SecretSealer } from '../../identity/types.ts';
import { canonicalUsername } from '../../identity/username.ts';
import type { Database } from '../../store/schema.ts';
import { WSSE_PASSWORD_DIGEST, WSSE_PASSWORD_TEXT, type RawUsernameToken } from './soap.ts';
import { passwordDigest } from '../../onvif/wss-username-token.ts';
import { NonceReplayCache, decodeNonce, digestMatches, freshness, parseCreated } from './username-token.ts';

const PURPOSE = 'camera.onvif-password';
/** Tokens remembered at once (one per authenticated request in the last 5 minutes). */
const REPLAY_CAPACITY = 10_000;

export type OnvifAuthFailure = 'locked' | 'bad-credentials' | 'replay' | 'expired' | 'future' | 'malformed' | 'cleartext';
export type OnvifAuthResult = { ok: true; username: string } | { ok: false; username: string; reason: OnvifAuthFailure };

export class OnvifAccounts {
  readonly #db: Kysely<Database>;
  readonly #keyring: SecretSealer;
  readonly #identity: IdentityService;
  readonly #clock: Clock;
  readonly #replay: NonceReplayCache;

  constructor(o: { db: Kysely<Database>; keyring: SecretSealer; identity: IdentityService; clock: Clock; replayCapacity?: number }) {
    this.#db = o.db;
    this.#keyring = o.keyring;
    this.#identity = o.identity;
    this.#clock = o.clock;
    this.#replay = new NonceReplayCache({ capacity: o.replayCapacity ?? REPLAY_CAPACITY, clock: o.clock });
  }

  /**
   * With the camera role on, every password set from now on is kept (sealed) for PasswordDigest;
   * with it off, none is kept and any kept before are deleted.
   */
  async install(enabled: boolean): Promise<void> {
    if (!enabled) {
      await this.#db.deleteFrom('onvif_credentials').execute();
      return;
    }
    this.#identity.onPasswordSet(async (user, password) => {
      const sealed = await this.#keyring.seal(PURPOSE, password, user.id);
      await this.#db.deleteFrom('onvif_credentials').where('user_id', '=', user.id).execute();
      await this.#db.insertInto('onvif_credentials').values({ user_id: user.id, sealed_password: sealed, updated_at: this.#clock.now() }).execute();
    });
  }

  /** Verifies a UsernameToken (CAM-T-auth-1). `secure`: the request came over TLS. */
  async authenticate(token: RawUsernameToken, secure: boolean): Promise<OnvifAuthResult> {
    const username = token.username;
    const fail = (reason: OnvifAuthFailure): OnvifAuthResult => ({ ok: false, username, reason });
    if (token.passwordType === WSSE_PASSWORD_TEXT) {
      // CAM-T-com-1: a password in clear is never even checked.
      if (!secure) return fail('cleartext');
      if (!(await this.#identity.externalLoginAllowed(username))) return fail('locked');
      return (await this.#identity.verifyExternalPassword(username, token.password)) ? { ok: true, username } : fail('bad-credentials');
    }
    if (token.passwordType !== WSSE_PASSWORD_DIGEST) return fail('malformed');
    const nonce = decodeNonce(token.nonce);
    const createdMs = parseCreated(token.created);
    if (nonce === undefined || createdMs === undefined || token.created === undefined) return fail('malformed');
    const fresh = freshness(createdMs, this.#clock.now());
    if (fresh !== 'fresh') return fail(fresh);
    if (!(await this.#identity.externalLoginAllowed(username))) return fail('locked');
    const known = await this.#password(username);
    // Same work for an unknown user: compare against a digest of a random password (NVR-5.4.1.1b).
    const expected = passwordDigest(nonce, token.created, known ?? randomBytes(24).toString('base64'));
    if (!digestMatches(token.password, expected) || known === undefined) return fail('bad-credentials');
    // Only a valid digest may take a slot in the cache: a flood of forgeries cannot fill it.
    if (!this.#replay.claim(canonicalUsername(username) ?? username, nonce, createdMs)) return fail('replay');
    return { ok: true, username };
  }

  async #password(rawUsername: string): Promise<string | undefined> {
    const username = canonicalUsername(rawUsername);
    if (username === null) return undefined;
    const row = await this.#db
      .selectFrom('onvif_credentials')
      .innerJoin('users', 'users.id', 'onvif_credentials.user_id')
      .select(['onvif_credentials.sealed_password', 'users.id'])
      .where('users.username', '=', username)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const password = await this.#keyring.open(PURPOSE, row.sealed_password, row.id);
    try {
      return password.toString('utf8');
    } finally {
      password.fill(0);
    }
  }
}
