// RTSP accounts of the camera role are Vigil accounts (CAM-T-auth-1/4/5): Digest verifiers (HA1
// per algorithm) derived when a password is set and stored sealed; a user must hold camera.view
// and not be locked out; every attempt is audited and failures count towards the same lockout
// as the web login.
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.ts';
import type { IdentityService } from '../identity/identity-service.ts';
import type { Database } from '../store/schema.ts';
import { digestHa1, type DigestAlgorithm } from '../video/rtsp/digest.ts';
import type { RtspCredentialVerifier } from '../video/rtsp/digest-server.ts';
import type { RtspAuthResult } from '../video/rtsp/server-connection.ts';

export const RTSP_REALM = 'Vigil camera';
const PURPOSE = 'camera.rtsp-digest';
const ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

export class RtspAccounts implements RtspCredentialVerifier {
  readonly #db: Kysely<Database>;
  readonly #keyring: Keyring;
  readonly #identity: IdentityService;

  constructor(o: { db: Kysely<Database>; keyring: Keyring; identity: IdentityService }) {
    this.#db = o.db;
    this.#keyring = o.keyring;
    this.#identity = o.identity;
  }

  /** Keeps the Digest verifiers current with every password set from now on. */
  install(): void {
    this.#identity.onPasswordSet(async (user, password) => {
      const now = Date.now();
      for (const algorithm of ALGORITHMS) {
        const sealed = await this.#keyring.seal(PURPOSE, digestHa1(algorithm, user.username, RTSP_REALM, password), `${user.id}|${algorithm}`);
        await this.#db.deleteFrom('rtsp_digest_credentials').where('user_id', '=', user.id).where('algorithm', '=', algorithm).execute();
        await this.#db.insertInto('rtsp_digest_credentials').values({ user_id: user.id, algorithm, realm: RTSP_REALM, sealed_ha1: sealed, updated_at: now }).execute();
      }
    });
  }

  async digestHa1(username: string, realm: string, algorithm: DigestAlgorithm): Promise<string | undefined> {
    if (realm !== RTSP_REALM) return undefined;
    if (!(await this.#identity.externalLoginAllowed(username))) return undefined;
    if (!(await this.#identity.userHasPermission(username, 'camera.view'))) return undefined;
    const row = await this.#db
      .selectFrom('rtsp_digest_credentials')
      .innerJoin('users', 'users.id', 'rtsp_digest_credentials.user_id')
      .select(['rtsp_digest_credentials.sealed_ha1', 'users.id'])
      .where('users.username', '=', username.normalize('NFKC').trim().toLowerCase())
      .where('rtsp_digest_credentials.algorithm', '=', algorithm)
      .where('rtsp_digest_credentials.realm', '=', realm)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const ha1 = await this.#keyring.open(PURPOSE, row.sealed_ha1, `${row.id}|${algorithm}`);
    try {
      return ha1.toString('utf8');
    } finally {
      ha1.fill(0);
    }
  }

  /** The RTSP server's and the snapshot endpoint's hook: audit and shared lockout. */
  onAuthResult(result: RtspAuthResult, via: 'rtsp' | 'snapshot' = 'rtsp'): void {
    if (result.username === '') return;
    void this.#identity.externalLoginResult(result.username, result.ok, { sourceIp: result.remoteAddress, userAgent: via }, via);
  }
}
