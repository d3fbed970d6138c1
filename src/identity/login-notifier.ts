// CAM-T-priv-2: every new access raises a notice. Each successful login is told to the
// listeners (the HTTP/UI layer shows it), flagged when it comes from an address this user has
// never logged in from before.
import type { IdentityCore } from './core.ts';
import type { UserRow } from './repositories/users.ts';
import type { LoginListener, LoginNotice, RequestContext } from './types.ts';

/** Addresses remembered per user; the least recently seen beyond this are forgotten. */
const SOURCES_PER_USER = 100;
const LISTENERS_MAX = 64;

export class LoginNotifier {
  readonly #core: IdentityCore;
  readonly #listeners = new Set<LoginListener>();

  constructor(core: IdentityCore) {
    this.#core = core;
  }

  /** Registers a listener; returns its unsubscribe function. */
  onLogin(listener: LoginListener): () => void {
    if (this.#listeners.size >= LISTENERS_MAX) throw new RangeError(`at most ${LISTENERS_MAX} login listeners`);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * A protocol without sessions (RTSP, ONVIF, snapshots) authenticates every request: only its
   * first access from an address is news, so only that is told (CAM-T-priv-2).
   */
  async notifyIfNewSource(user: UserRow, ctx: RequestContext): Promise<void> {
    await this.notify(user, ctx, '', true);
  }

  async notify(user: UserRow, ctx: RequestContext, sessionIdHash: string, onlyIfNew = false): Promise<LoginNotice> {
    const { repos, clock } = this.#core;
    const at = clock.now();
    const newSource = !(await repos.loginSources.exists(user.id, ctx.sourceIp));
    await repos.loginSources.remember(user.id, ctx.sourceIp, at);
    if (newSource) await repos.loginSources.trimUser(user.id, SOURCES_PER_USER);
    const notice: LoginNotice = { userId: user.id, username: user.username, sourceIp: ctx.sourceIp, userAgent: ctx.userAgent, at, newSource, sessionIdHash };
    if (onlyIfNew && !newSource) return notice;
    for (const listener of this.#listeners) {
      try {
        listener(notice);
      } catch (err) {
        // A broken listener must not undo the login, and must not go unnoticed.
        this.#core.alarms.raise({
          type: 'identity.login_notice_failed',
          severity: 'warning',
          source: 'identity',
          message: `a login notification listener failed: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    }
    return notice;
  }
}
