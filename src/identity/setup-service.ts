// First run (NVR-5.4.2.1b, ACS-5.1.1.1): there is no default account. Until an administrator
// exists, a one-time 256-bit setup token printed on the console (kept here only as its SHA-256,
// in memory) lets whoever is at the device create the first administrator; the console itself
// (`vigil setup`) may do it too. The first administrator chooses the password, so no forced
// change — but the administrator role requires MFA enrolment at first login.
import { VigilError } from '../core/errors.ts';
import { SerialQueue, recordEvent, type IdentityCore } from './core.ts';
import { newToken, sha256Hex, tokenMatches } from './secrets.ts';
import type { RequestContext, UserView } from './types.ts';
import type { UserService } from './user-service.ts';

export class SetupService {
  readonly #core: IdentityCore;
  readonly #users: UserService;
  readonly #queue = new SerialQueue();
  #tokenHash: string | null = null;
  /** Once an administrator exists setup stays done: the last one cannot be removed. */
  #done = false;

  constructor(core: IdentityCore, users: UserService) {
    this.#core = core;
    this.#users = users;
  }

  async setupRequired(): Promise<boolean> {
    if (this.#done) return false;
    const admins = await this.#core.repos.roleGrants.countEnabledGlobalHolders('administrator');
    if (admins > 0) {
      this.#done = true;
      this.#tokenHash = null;
    }
    return admins === 0;
  }

  /** A new one-time token; any earlier one stops working. */
  createSetupToken(): string {
    const token = newToken();
    this.#tokenHash = sha256Hex(token);
    return token;
  }

  async completeSetup(token: string, input: { username: string; password: string }, ctx: RequestContext): Promise<UserView> {
    return this.#queue.run(async () => {
      await this.#assertRequired(ctx);
      const expected = this.#tokenHash;
      if (expected === null || !tokenMatches(token, expected)) {
        recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.setup', target: '', outcome: 'failure', details: { reason: 'bad-setup-token' } });
        throw new VigilError('VIGIL_SETUP_TOKEN_INVALID', 'the setup token is not valid');
      }
      const user = await this.#createFirstAdministrator(input, ctx);
      this.#tokenHash = null;
      return user;
    });
  }

  /** `vigil setup` on the device's own console: physical access stands in for the token. */
  async setupFromConsole(input: { username: string; password: string }, ctx: RequestContext): Promise<UserView> {
    return this.#queue.run(async () => {
      await this.#assertRequired(ctx);
      const user = await this.#createFirstAdministrator(input, ctx);
      this.#tokenHash = null;
      return user;
    });
  }

  async #assertRequired(ctx: RequestContext): Promise<void> {
    if (await this.setupRequired()) return;
    recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.setup', target: '', outcome: 'denied', details: { reason: 'already-done' } });
    throw new VigilError('VIGIL_SETUP_ALREADY_DONE', 'setup is already done: an administrator exists');
  }

  async #createFirstAdministrator(input: { username: string; password: string }, ctx: RequestContext): Promise<UserView> {
    const row = await this.#users.adminChanges.run(() =>
      this.#users.createAccount(
        { username: input.username, password: input.password, grants: [{ role: 'administrator', scopeKind: 'global', scopeId: '' }], mustChangePassword: false },
        ctx,
      ),
    );
    this.#done = true;
    recordEvent(this.#core, ctx, { category: 'auth', action: 'auth.setup', target: `user:${row.username}`, outcome: 'success' });
    return this.#users.view(row);
  }
}
