// What every identity service is built from: the repositories and the injected collaborators.
import type { AlarmSink } from '../alarms/types.ts';
import type { AuditEventInput, AuditSink } from '../audit/types.ts';
import type { Clock } from '../core/clock.ts';
import { VigilError } from '../core/errors.ts';
import type { IdentityRepositories } from './repositories/index.ts';
import type { UserRow } from './repositories/users.ts';
import type { PasswordHashing, RequestContext, SecretSealer, SecurityConfig } from './types.ts';

export interface IdentityCore {
  repos: IdentityRepositories;
  sealer: SecretSealer;
  hasher: PasswordHashing;
  audit: AuditSink;
  alarms: AlarmSink;
  clock: Clock;
  config: SecurityConfig;
  /** Called after a password is stored, with the password in memory only (derived verifiers such as RTSP Digest). */
  passwordListeners: PasswordListener[];
}

export type PasswordListener = (user: { id: string; username: string }, password: string) => Promise<void>;

export async function notifyPasswordSet(core: IdentityCore, user: { id: string; username: string }, password: string): Promise<void> {
  for (const listener of core.passwordListeners) await listener(user, password);
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Keyring purpose of everything identity seals (NVR-5.2.4.1a). */
export const SEAL_PURPOSE = 'identity';

export function actorOf(ctx: RequestContext): string {
  return ctx.actor === undefined ? 'anonymous' : `user:${ctx.actor.username}`;
}

type IdentityCategory = Extract<AuditEventInput['category'], 'auth' | 'session' | 'user'>;

/** One security event, with actor and source from the request (design §4). */
export function recordEvent(
  core: IdentityCore,
  ctx: RequestContext,
  event: { category: IdentityCategory; action: string; target: string; outcome: AuditEventInput['outcome']; details?: AuditEventInput['details'] },
): void {
  const input: AuditEventInput = {
    category: event.category,
    action: event.action,
    actor: actorOf(ctx),
    source: ctx.sourceIp,
    target: event.target,
    outcome: event.outcome,
  };
  if (event.details !== undefined) input.details = event.details;
  core.audit.record(input);
}

export async function mustFindUser(core: IdentityCore, userId: string): Promise<UserRow> {
  const user = await core.repos.users.findById(userId);
  if (user === undefined) throw new VigilError('VIGIL_USER_NOT_FOUND', 'no such user');
  return user;
}

/**
 * Runs async tasks one at a time. Used where a rule reads then writes (the last administrator,
 * the first administrator) so two concurrent requests cannot both pass the check in this process.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
