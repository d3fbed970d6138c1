// API tokens for machine clients (ACS-5.1.1.9: every interface authenticates). The token is
// `vgl_<id>_<secret>` with a 256-bit secret, shown once; only SHA-256 of the secret is stored
// and compared in constant time. A token acts with its owner's current grants, so a role change
// applies to it at once; disabling the owner or resetting the password revokes it.
import { randomUUID } from 'node:crypto';
import { VigilError } from '../core/errors.ts';
import { mustFindUser, recordEvent, type IdentityCore } from './core.ts';
import { mfaRequiredFor } from './principal.ts';
import type { PrincipalLoader } from './principal-loader.ts';
import type { ApiTokenRow } from './repositories/api-tokens.ts';
import { newToken, sha256Hex, tokenMatches } from './secrets.ts';
import type { ApiTokenView, NewApiToken, Principal, RequestContext } from './types.ts';

const TOKEN = /^vgl_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[^\p{Cc}]{1,64}$/u;
const ACTIVE_PER_USER = 50;
/** last_used_at is written at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

function view(row: ApiTokenRow): ApiTokenView {
  return { id: row.id, name: row.name, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at, revoked: row.revoked === 1 };
}

export class ApiTokenService {
  readonly #core: IdentityCore;
  readonly #principals: PrincipalLoader;

  constructor(core: IdentityCore, principals: PrincipalLoader) {
    this.#core = core;
    this.#principals = principals;
  }

  async create(userId: string, input: { name: string; expiresAt?: number | null }, ctx: RequestContext): Promise<NewApiToken> {
    const { repos, clock, config } = this.#core;
    const user = await mustFindUser(this.#core, userId);
    const target = `user:${user.username}`;
    if (user.disabled === 1) throw new VigilError('VIGIL_VALIDATION', 'the user is disabled');
    const actor = ctx.actor;
    // A token outlives the session that made it: for yourself it needs the second factor your
    // role requires (NVR-5.4.1.2a), so a stolen password alone cannot mint one.
    if (actor !== undefined && actor.userId === user.id && actor.authMethod === 'session' && !actor.mfaPassed && mfaRequiredFor(actor.grants, config.mfaRequiredRoles)) {
      recordEvent(this.#core, ctx, { category: 'user', action: 'user.apitoken.create', target, outcome: 'denied', details: { reason: 'mfa-required' } });
      throw new VigilError('VIGIL_AUTH_MFA_REQUIRED', 'log in with your second factor to create an API token');
    }
    if (!NAME.test(input.name)) throw new VigilError('VIGIL_VALIDATION', 'token name must be 1 to 64 printable characters');
    const now = clock.now();
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!Number.isSafeInteger(expiresAt) || expiresAt <= now)) {
      throw new VigilError('VIGIL_VALIDATION', 'expiresAt must be a time in the future (epoch milliseconds)');
    }
    if ((await repos.apiTokens.countActiveByUser(user.id, now)) >= ACTIVE_PER_USER) {
      throw new VigilError('VIGIL_CONFLICT', `at most ${ACTIVE_PER_USER} active API tokens per user`);
    }
    const id = randomUUID();
    const secret = newToken();
    const row: ApiTokenRow = { id, user_id: user.id, name: input.name, token_hash: sha256Hex(secret), created_at: now, expires_at: expiresAt, last_used_at: null, revoked: 0 };
    await repos.apiTokens.insert(row);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.apitoken.create', target, outcome: 'success', details: { ref: id, label: input.name } });
    return { token: `vgl_${id}_${secret}`, apiToken: view(row) };
  }

  async list(userId: string): Promise<ApiTokenView[]> {
    return (await this.#core.repos.apiTokens.listByUser(userId)).map(view);
  }

  async revoke(userId: string, tokenId: string, ctx: RequestContext): Promise<void> {
    const user = await mustFindUser(this.#core, userId);
    const revoked = await this.#core.repos.apiTokens.revoke(user.id, tokenId);
    recordEvent(this.#core, ctx, { category: 'user', action: 'user.apitoken.revoke', target: `user:${user.username}`, outcome: revoked ? 'success' : 'failure', details: { ref: tokenId.slice(0, 64) } });
    if (!revoked) throw new VigilError('VIGIL_NOT_FOUND', 'no such active API token');
  }

  async authenticate(token: string, ctx?: RequestContext): Promise<Principal> {
    const { repos, clock } = this.#core;
    const refuse = (reason: string): VigilError => {
      if (ctx !== undefined) recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.apitoken', target: '', outcome: 'failure', details: { reason } });
      return new VigilError('VIGIL_AUTH_REQUIRED', 'authentication required');
    };
    const match = TOKEN.exec(token);
    const id = match?.[1];
    const secret = match?.[2];
    if (id === undefined || secret === undefined) throw refuse('malformed');
    const row = await repos.apiTokens.find(id);
    // Digest compared in constant time even for an unknown id, against a digest that cannot match.
    const matches = tokenMatches(secret, row?.token_hash ?? ''.padEnd(64, 'x'));
    const now = clock.now();
    if (row === undefined || !matches) throw refuse('unknown');
    if (row.revoked === 1) throw refuse('revoked');
    if (row.expires_at !== null && now >= row.expires_at) throw refuse('expired');
    const user = await repos.users.findById(row.user_id);
    if (user === undefined || user.disabled === 1) throw refuse('owner-disabled');
    if (row.last_used_at === null || now - row.last_used_at >= TOUCH_INTERVAL_MS) await repos.apiTokens.touch(row.id, now);
    return this.#principals.load(user, { method: 'api-token' });
  }
}
