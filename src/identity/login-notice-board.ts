// CAM-T-priv-2: the recent logins of each account, so that a session already open learns of a
// new access to the same account (the web UI polls it and shows a notification). Memory only
// and bounded on every side: a few notices per user, a bounded number of users, a maximum age.
// Lost on restart by design — the durable record is the audit log (auth.login events).
import type { Clock } from '../core/clock.ts';
import type { LoginNotice } from './types.ts';

export const NOTICES_PER_USER = 20;
export const USERS_MAX = 10_000;
export const NOTICE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface BoardNotice {
  /** Increasing over the whole board: the client's cursor. */
  id: number;
  at: number;
  sourceIp: string;
  userAgent: string;
  newSource: boolean;
  sessionIdHash: string;
}

export class LoginNoticeBoard {
  readonly #clock: Clock;
  /** Insertion order is recency of the user's last login: the first key is the one to forget. */
  readonly #byUser = new Map<string, BoardNotice[]>();
  #lastId = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The cursor of the newest notice on the board (0 before any). */
  get latest(): number {
    return this.#lastId;
  }

  record(notice: LoginNotice): void {
    const list = this.#byUser.get(notice.userId) ?? [];
    this.#byUser.delete(notice.userId);
    list.push({ id: ++this.#lastId, at: notice.at, sourceIp: notice.sourceIp, userAgent: notice.userAgent, newSource: notice.newSource, sessionIdHash: notice.sessionIdHash });
    if (list.length > NOTICES_PER_USER) list.splice(0, list.length - NOTICES_PER_USER);
    this.#byUser.set(notice.userId, list);
    while (this.#byUser.size > USERS_MAX) {
      const oldest = this.#byUser.keys().next();
      if (oldest.done === true) break;
      this.#byUser.delete(oldest.value);
    }
  }

  /** The user's logins after `afterId`, oldest first, leaving out the asking session's own. */
  since(userId: string, afterId: number, exceptSessionIdHash: string | undefined): BoardNotice[] {
    const cutoff = this.#clock.now() - NOTICE_MAX_AGE_MS;
    return (this.#byUser.get(userId) ?? []).filter((n) => n.id > afterId && n.at >= cutoff && n.sessionIdHash !== exceptSessionIdHash);
  }
}
