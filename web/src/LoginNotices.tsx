// CAM-T-priv-2: every new access to the account is told to its user. After signing in from an
// address never used before, a banner says so; while signed in, the shell polls the server for
// other logins to the same account and shows each (a new address more loudly). Bounded: one
// request every POLL_MS, at most MAX_SHOWN notices kept on screen.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api, formatTime, type LoginNotice } from './api.ts';

interface OtherLogin { id: number; at: string; sourceIp: string; userAgent: string; newSource: boolean }

const POLL_MS = 10_000;
const MAX_SHOWN = 5;

export function LoginNotices({ own, onDismissOwn }: { own: LoginNotice | null; onDismissOwn: () => void }): ReactNode {
  const [others, setOthers] = useState<OtherLogin[]>([]);
  const cursor = useRef<number | undefined>(undefined);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        const after = cursor.current === undefined ? '' : `?after=${cursor.current}`;
        const r = await api<{ latest: number; notices: OtherLogin[] }>('GET', `/api/v1/auth/login-notices${after}`, undefined, { quiet: true, background: true });
        if (!live) return;
        cursor.current = r.latest;
        if (r.notices.length > 0) setOthers((shown) => [...r.notices.slice().reverse(), ...shown].slice(0, MAX_SHOWN));
      } catch {
        // A failed poll is tried again; a session that ended is noticed by the page's own requests.
      }
      if (live) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, []);

  const ownBanner = own?.newSource === true;
  if (!ownBanner && others.length === 0) return null;
  return (
    <div className="login-notices" data-testid="login-notices">
      {ownBanner && own !== null ? (
        <div className="login-notice new-source" role="status" data-testid="own-login-notice">
          <p>
            <strong>Sign-in from a new address.</strong> This session was opened from <code>{own.sourceIp}</code> at {formatTime(own.at)},
            an address your account has not signed in from before. If this was not you, change your password and sign out everywhere.
          </p>
          <button type="button" className="secondary" onClick={onDismissOwn}>Dismiss</button>
        </div>
      ) : null}
      {others.map((n) => (
        <div key={n.id} className={n.newSource ? 'login-notice new-source' : 'login-notice'} role="alert" data-testid="other-login-notice">
          <p>
            <strong>{n.newSource ? 'New sign-in to your account from a new address' : 'New sign-in to your account'}</strong>:{' '}
            <code>{n.sourceIp}</code> at {formatTime(n.at)}{n.userAgent === '' ? '' : ` (${n.userAgent.slice(0, 80)})`}.
            {' '}Not you? Open <a href="#/account">Account</a> and sign out everywhere.
          </p>
          <button type="button" className="secondary" onClick={() => setOthers((shown) => shown.filter((o) => o.id !== n.id))}>Dismiss</button>
        </div>
      ))}
    </div>
  );
}
