// sessions (Vigil targets, the given account): "idle past limit → 401" of NVR-5.4.3.1b, waited
// for. Two sessions of the account: one left idle, one used every few seconds as the control (so
// an expiry is the idle timeout, not a lifetime or a logout). The wait is the timeout the target
// announces at login plus a margin, and only when that fits the operator's bound (--idle-wait-max);
// a longer timeout is left to the lab's stopwatch. The timeout being configurable is the vendor's
// declaration (vendor-evidence.ts).
import type { AssessContext } from './context.ts';
import { httpProbe, type WebEndpoint } from './http-probe.ts';
import { logout, tryLogin, type LoginAttempt } from './login-probe.ts';
import type { Finding } from './types.ts';
import { VIGIL_AUTH_PATHS } from './declaration.ts';
import { isRecord, sleep } from './vigil-api.ts';

/** Past the announced timeout: the target may note activity only every few seconds. */
const MARGIN_S = 10;
const CONTROL_EVERY_MS = 5000;

type Session = NonNullable<LoginAttempt['session']>;

function announcedIdleSeconds(a: LoginAttempt): number | undefined {
  try {
    const v: unknown = JSON.parse(a.response.body);
    return isRecord(v) && typeof v['idleTimeoutSeconds'] === 'number' && v['idleTimeoutSeconds'] > 0 ? v['idleTimeoutSeconds'] : undefined;
  } catch {
    return undefined;
  }
}

async function me(web: WebEndpoint, s: Session): Promise<number> {
  return (await httpProbe(web, { path: VIGIL_AUTH_PATHS.me, headers: { cookie: s.cookie, accept: 'application/json' } })).status;
}

export async function runSessionsCheck(ctx: AssessContext): Promise<Finding[]> {
  const base = { id: 'sessions.idle-timeout', check: 'sessions' as const, title: 'An idle session ends after the idle timeout; an active one does not', clauses: [{ id: 'NVR-5.4.3.1b', partial: 'that the timeout is configurable is shown in the configuration' }] };
  const web = ctx.web;
  const creds = ctx.credentials;
  if (web === undefined || !ctx.isVigil) return [{ ...base, status: 'manual', evidence: 'not run: no Vigil login API on the target; the lab waits out the idle timeout by hand' }];
  if (creds === undefined) return [{ ...base, status: 'manual', evidence: 'not run: needs an account (--credentials)' }];
  const idle = await tryLogin(web, creds.username, creds.password);
  const announced = announcedIdleSeconds(idle);
  if (idle.session === undefined || announced === undefined) return [{ ...base, status: 'manual', evidence: `not run: the login gave ${idle.session === undefined ? `no session (${idle.outcome})` : 'no idleTimeoutSeconds'}` }];
  const waitS = announced + MARGIN_S;
  if (waitS > ctx.idleWaitMaxSeconds) {
    await logout(web, idle.session);
    return [{ ...base, status: 'manual', evidence: `the target announces an idle timeout of ${announced} s; waiting ${waitS} s is beyond the bound of ${ctx.idleWaitMaxSeconds} s (--idle-wait-max): the lab waits by hand` }];
  }
  const control = await tryLogin(web, creds.username, creds.password);
  if (control.session === undefined) {
    await logout(web, idle.session);
    return [{ ...base, status: 'manual', evidence: `no second session for the control (${control.outcome})` }];
  }
  ctx.progress(`sessions: idle timeout announced ${announced} s; waiting ${waitS} s with one session idle and one active`);
  const before = await me(web, idle.session);
  const started = Date.now();
  // The control is used well within the timeout, however short the target's is.
  const every = Math.min(CONTROL_EVERY_MS, Math.max(250, Math.floor((announced * 1000) / 3)));
  let controlLost: number | undefined;
  // Bounded: at most waitS / 0.25 s touches of the control session.
  while (Date.now() - started < waitS * 1000 && !ctx.signal.aborted) {
    await sleep(Math.min(every, waitS * 1000 - (Date.now() - started)), ctx.signal);
    const status = await me(web, control.session);
    if (status !== 200 && controlLost === undefined) controlLost = status;
  }
  const idleAfter = await me(web, idle.session);
  const controlAfter = await me(web, control.session);
  await logout(web, control.session);
  const evidence = `idle timeout announced ${announced} s; idle session: ${before} at first, ${idleAfter} after ${((Date.now() - started) / 1000).toFixed(0)} s untouched; control session used every ${(every / 1000).toFixed(1)} s: ${controlLost === undefined ? controlAfter : `lost (${controlLost})`} at the end`;
  if (before !== 200 || controlLost !== undefined || controlAfter !== 200) return [{ ...base, status: 'manual', evidence: `${evidence}: inconclusive (a session did not work while in use)` }];
  if (idleAfter === 401) return [{ ...base, status: 'pass', evidence }];
  return [{ ...base, status: 'fail', evidence, severity: 'medium', fix: 'End a session that has been idle for the configured timeout; require a new login.' }];
}
