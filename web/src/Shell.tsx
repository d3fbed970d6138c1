// The signed-in application: navigation, the current page, sign out, the idle warning, the
// new-login notices. A page appears only when the principal's permissions allow it (the list
// comes from the server's roles table); hidden is not the protection — the API refuses too.
import { useEffect, useState, type ReactNode } from 'react';
import { api, can, type LoginNotice, type Principal } from './api.ts';
import { IdleWarning } from './IdleWarning.tsx';
import { LoginNotices } from './LoginNotices.tsx';
import { AccountPage } from './pages/Account.tsx';
import { AlarmsPage } from './pages/Alarms.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { CamerasPage } from './pages/Cameras.tsx';
import { DoorsPage } from './pages/Doors.tsx';
import { LiveGridPage } from './pages/LiveGrid.tsx';
import { StoragePage } from './pages/Storage.tsx';
import { SystemInfoPage } from './pages/SystemInfo.tsx';
import { UsersPage } from './pages/Users.tsx';
import { VerifyEvidence } from './pages/Verify.tsx';
import { PageTitle } from './ui.tsx';

const PAGES = ['alarms', 'live', 'cameras', 'doors', 'verify', 'audit', 'storage', 'users', 'system', 'account'] as const;
type Page = (typeof PAGES)[number];
const TITLES: Record<Page, string> = {
  alarms: 'Alarms', live: 'Live', cameras: 'Cameras', doors: 'Doors', verify: 'Verify evidence', audit: 'Audit log', storage: 'Storage', users: 'Users', system: 'System info', account: 'Account',
};
/** The permission a page needs; null: every signed-in user. */
const NEEDS: Record<Page, string | null> = {
  alarms: 'alarms.read', live: 'camera.view', cameras: 'camera.view', doors: 'door.view', verify: null, audit: 'audit.read', storage: 'system.read', users: 'users.read', system: 'system.read', account: null,
};
/** In the header next to the user name, not in the main navigation. */
const IN_NAV = (p: Page): boolean => p !== 'account';

function pageFromHash(): Page | null {
  const name = window.location.hash.replace(/^#\/?/, '');
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : null;
}

export function Shell({ principal, idleTimeoutSeconds, loginNotice, onDismissLoginNotice, onLogout, onIdleTimeout, onSignedOutEverywhere }: {
  principal: Principal;
  idleTimeoutSeconds: number;
  loginNotice: LoginNotice | null;
  onDismissLoginNotice: () => void;
  onLogout: () => void;
  onIdleTimeout: () => void;
  onSignedOutEverywhere: () => void;
}): ReactNode {
  const allowed = (p: Page): boolean => { const needs = NEEDS[p]; return needs === null || can(principal, needs); };
  const visible = PAGES.filter((p) => IN_NAV(p) && allowed(p));
  const home: Page = visible[0] ?? 'account';
  const [page, setPage] = useState<Page>(() => pageFromHash() ?? home);

  useEffect(() => {
    const onHash = (): void => setPage(pageFromHash() ?? home);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [home]);

  useEffect(() => {
    document.title = `${TITLES[page]} · Vigil`;
  }, [page]);

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
        <a className="user" href="#/account" aria-current={page === 'account' ? 'page' : undefined} data-testid="signed-in-user" title="Your account and sessions">{principal.username}</a>
        <button type="button" className="secondary" onClick={onLogout}>Sign out</button>
      </header>
      <LoginNotices own={loginNotice} onDismissOwn={onDismissLoginNotice} />
      {principal.passwordExpiresInDays <= 14 ? <p className="notice" role="status">Your password expires in {principal.passwordExpiresInDays} days.</p> : null}
      <main id="content">
        {!allowed(page) ? <p className="error" role="alert">Your role may not open the {TITLES[page]} page.</p> : <CurrentPage page={page} principal={principal} onSignedOutEverywhere={onSignedOutEverywhere} />}
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

function CurrentPage({ page, principal, onSignedOutEverywhere }: { page: Page; principal: Principal; onSignedOutEverywhere: () => void }): ReactNode {
  switch (page) {
    case 'alarms': return <AlarmsPage key="alarms" canAcknowledge={can(principal, 'alarms.acknowledge')} />;
    case 'live': return <LiveGridPage key="live" />;
    case 'doors': return <DoorsPage key="doors" canControl={can(principal, 'door.control')} />;
    case 'cameras': return <CamerasPage key="cameras" canManage={can(principal, 'camera.manage')} canReadAlarms={can(principal, 'alarms.read')} />;
    case 'verify': return <section key="verify" aria-labelledby="page-title"><PageTitle>Verify evidence</PageTitle><VerifyEvidence /></section>;
    case 'audit': return <AuditPage key="audit" />;
    case 'storage': return <StoragePage key="storage" />;
    case 'users': return <UsersPage key="users" principal={principal} />;
    case 'system': return <SystemInfoPage key="system" />;
    case 'account': return <AccountPage key="account" onSignedOutEverywhere={onSignedOutEverywhere} />;
  }
}
