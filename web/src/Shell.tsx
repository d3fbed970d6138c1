// The signed-in application: navigation, the current page, sign out, the idle warning.
import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, type Principal } from './api.ts';
import { IdleWarning } from './IdleWarning.tsx';
import { AlarmsPage } from './pages/Alarms.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CamerasPage } from './pages/Cameras.tsx';
import { SystemInfoPage } from './pages/SystemInfo.tsx';
import { VerifyEvidence } from './pages/Verify.tsx';
import { PageTitle } from './ui.tsx';

const PAGES = ['alarms', 'cameras', 'verify', 'audit', 'system'] as const;
type Page = (typeof PAGES)[number];
const TITLES: Record<Page, string> = { alarms: 'Alarms', cameras: 'Cameras', verify: 'Verify evidence', audit: 'Audit log', system: 'System info' };

function pageFromHash(): Page {
  const name = window.location.hash.replace(/^#\/?/, '');
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'alarms';
}

export function Shell({ principal, idleTimeoutSeconds, onLogout, onIdleTimeout }: {
  principal: Principal;
  idleTimeoutSeconds: number;
  onLogout: () => void;
  onIdleTimeout: () => void;
}): ReactNode {
  const [page, setPage] = useState<Page>(pageFromHash);
  // Shown only when the API grants it: hidden is not the protection (the API refuses too).
  const [auditAllowed, setAuditAllowed] = useState<boolean | null>(null);

  useEffect(() => {
    const onHash = (): void => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    let live = true;
    api('GET', '/api/v1/audit/events?limit=1', undefined, { quiet: true })
      .then(() => { if (live) setAuditAllowed(true); })
      .catch((err: unknown) => { if (live) setAuditAllowed(!(err instanceof ApiError && err.code === 'VIGIL_FORBIDDEN')); });
    return () => { live = false; };
  }, []);

  useEffect(() => {
    document.title = `${TITLES[page]} · Vigil`;
  }, [page]);

  const visible = PAGES.filter((p) => p !== 'audit' || auditAllowed === true);
  return (
    <div className="shell">
      <a className="skip" href="#content">Skip to content</a>
      <header className="top">
        <span className="brand">Vigil</span>
        <nav aria-label="Main">
          <ul>
            {visible.map((p) => (
              <li key={p}><a href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>{TITLES[p]}</a></li>
            ))}
          </ul>
        </nav>
        <span className="user" data-testid="signed-in-user">{principal.username}</span>
        <button type="button" className="secondary" onClick={onLogout}>Sign out</button>
      </header>
      {principal.passwordExpiresInDays <= 14 ? <p className="notice" role="status">Your password expires in {principal.passwordExpiresInDays} days.</p> : null}
      <main id="content">
        {page === 'alarms' ? <AlarmsPage key="alarms" /> : null}
        {page === 'cameras' ? <CamerasPage key="cameras" /> : null}
        {page === 'system' ? <SystemInfoPage key="system" /> : null}
        {page === 'verify' ? <section key="verify" aria-labelledby="page-title"><PageTitle>Verify evidence</PageTitle><VerifyEvidence /></section> : null}
        {page === 'audit' ? (auditAllowed === false ? <p className="error" role="alert">Your role may not read the audit log.</p> : auditAllowed === true ? <AuditPage key="audit" /> : <p role="status">Loading…</p>) : null}
      </main>
      <IdleWarning
        idleTimeoutSeconds={idleTimeoutSeconds}
        onStay={() => void api('GET', '/api/v1/auth/me').catch(() => undefined)}
        onTimeout={onIdleTimeout}
        onLogout={onLogout}
      />
    </div>
  );
}
