// Which screen to show: setup, login, a required step (password change, MFA enrolment), or the
// application. The CSRF token lives in memory only (api.ts); after a reload a fresh one is fetched
// from /api/v1/auth/csrf with the session cookie (SameSite=Strict: same-site pages only).
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, messageOf, onSessionError, setCsrfToken, type LoginNotice, type Principal, type SessionIssued } from './api.ts';
import { LoginPage } from './pages/Login.tsx';
import { PasswordChangePage } from './pages/PasswordChange.tsx';
import { SetupPage } from './pages/Setup.tsx';
import { TotpEnrolPage } from './pages/TotpEnrol.tsx';
import { VerifyEvidence } from './pages/Verify.tsx';
import { Shell } from './Shell.tsx';
import { Card, ErrorMessage } from './ui.tsx';

type View =
  | { kind: 'loading' }
  | { kind: 'failed'; message: string }
  | { kind: 'setup' }
  | { kind: 'login'; notice: string | null }
  | { kind: 'session'; principal: Principal; idleTimeoutSeconds: number };

/** Not a secret: only whether this tab signed in, so a reload does not probe /me for nothing. */
const SIGNED_IN_FLAG = 'vigil.signedIn';

/** Evidence can be verified without signing in: nothing of the device is needed. */
const VERIFY_HASH = '#/verify';

export function App(): ReactNode {
  const [view, setView] = useState<View>({ kind: 'loading' });
  const [hash, setHash] = useState(window.location.hash);
  // CAM-T-priv-2: the login that opened this session, kept through a forced password change.
  const [loginNotice, setLoginNotice] = useState<LoginNotice | null>(null);

  useEffect(() => {
    const onHash = (): void => setHash(window.location.hash);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const signedOut = useCallback((notice: string | null): void => {
    setCsrfToken(null);
    sessionStorage.removeItem(SIGNED_IN_FLAG);
    setLoginNotice(null);
    setView({ kind: 'login', notice });
  }, []);

  const startSession = useCallback((s: SessionIssued): void => {
    setCsrfToken(s.csrfToken);
    sessionStorage.setItem(SIGNED_IN_FLAG, '1');
    if (s.login !== undefined) setLoginNotice(s.login);
    setView({ kind: 'session', principal: s.principal, idleTimeoutSeconds: s.idleTimeoutSeconds });
  }, []);

  const refreshPrincipal = useCallback(async (): Promise<void> => {
    const principal = await api<Principal>('GET', '/api/v1/auth/me', undefined, { quiet: true });
    setView((v) => (v.kind === 'session' ? { ...v, principal } : v));
  }, []);

  useEffect(() => onSessionError((error: ApiError) => {
    if (error.code === 'VIGIL_AUTH_MFA_ENROLMENT_REQUIRED' || error.code === 'VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED') {
      refreshPrincipal().catch(() => signedOut('Your session ended. Sign in again.'));
    } else signedOut('Your session ended. Sign in again.');
  }), [refreshPrincipal, signedOut]);

  useEffect(() => {
    void (async () => {
      try {
        const { setupRequired } = await api<{ setupRequired: boolean }>('GET', '/api/v1/setup');
        if (setupRequired) return setView({ kind: 'setup' });
        if (sessionStorage.getItem(SIGNED_IN_FLAG) === null) return setView({ kind: 'login', notice: null });
        const csrf = await api<{ csrfToken: string; idleTimeoutSeconds: number }>('GET', '/api/v1/auth/csrf', undefined, { quiet: true });
        setCsrfToken(csrf.csrfToken);
        const me = await api<Principal>('GET', '/api/v1/auth/me', undefined, { quiet: true });
        setView({ kind: 'session', principal: me, idleTimeoutSeconds: csrf.idleTimeoutSeconds });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) signedOut(null);
        else setView({ kind: 'failed', message: messageOf(err) });
      }
    })();
  }, [signedOut]);

  const logout = useCallback((notice: string | null): void => {
    // The next person to sign in starts at the default page, not at the last one of this user.
    window.history.replaceState(null, '', '/');
    api('POST', '/api/v1/auth/logout', {}, { quiet: true })
      .catch(() => undefined)
      .finally(() => signedOut(notice));
  }, [signedOut]);
  const logoutPlain = useCallback(() => logout('You have signed out.'), [logout]);
  const idleTimeout = useCallback(() => logout('You were signed out after a period of inactivity.'), [logout]);

  switch (view.kind) {
    case 'loading':
      return <p className="loading" role="status">Loading…</p>;
    case 'failed':
      return <main className="card"><h1>Vigil is not reachable</h1><ErrorMessage error={view.message} /></main>;
    case 'setup':
      return <SetupPage onDone={() => signedOut('The administrator was created. Sign in.')} />;
    case 'login':
      if (hash === VERIFY_HASH) {
        return <Card title="Verify evidence"><VerifyEvidence /><p><a href="#/">Back to sign in</a></p></Card>;
      }
      return <LoginPage notice={view.notice} onSession={startSession} />;
    case 'session': {
      const { principal } = view;
      if (principal.passwordChangeRequired) return <PasswordChangePage onSession={startSession} onLogout={logoutPlain} />;
      if (principal.mfaEnrolmentRequired) return <TotpEnrolPage onDone={() => void refreshPrincipal().catch(() => signedOut('Your session ended. Sign in again.'))} onLogout={logoutPlain} />;
      return (
        <Shell
          principal={principal}
          idleTimeoutSeconds={view.idleTimeoutSeconds}
          loginNotice={loginNotice}
          onDismissLoginNotice={() => setLoginNotice(null)}
          onLogout={logoutPlain}
          onIdleTimeout={idleTimeout}
          onSignedOutEverywhere={() => signedOut('You were signed out on every device.')}
        />
      );
    }
  }
}
