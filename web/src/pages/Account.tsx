// The user's own account: passkeys (NVR-5.4.1.2a), where it is signed in, and "sign out
// everywhere" (ACS-5.2.1.13: every session, this one included, ends at once on the server).
import { useEffect, useState, type ReactNode } from 'react';
import { api, formatTime, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle } from '../ui.tsx';
import { PasskeysSection } from './Passkeys.tsx';

interface Session { id: string; createdAt: number; lastSeenAt: number; expiresAt: number; mfaPassed: boolean; sourceIp: string; userAgent: string; current: boolean }

const iso = (ms: number): string => new Date(ms).toISOString();

export function AccountPage({ onSignedOutEverywhere }: { onSignedOutEverywhere: () => void }): ReactNode {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api<{ sessions: Session[] }>('GET', '/api/v1/auth/sessions')
      .then((r) => { if (live) setSessions(r.sessions); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  async function signOutEverywhere(): Promise<void> {
    setBusy(true);
    try {
      await api('POST', '/api/v1/auth/sessions/revoke-all', {});
      window.history.replaceState(null, '', '/');
      onSignedOutEverywhere();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Account</PageTitle>
      <PasskeysSection />
      <ErrorMessage error={error} />
      <h2>Where you are signed in</h2>
      {sessions === null ? (error === null ? <p role="status">Loading…</p> : null) : (
        <table>
          <thead><tr><th scope="col">From</th><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">Last active</th><th scope="col">Second factor</th></tr></thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-testid="own-session">
                <td><code>{s.sourceIp}</code>{s.current ? <strong> (this session)</strong> : null}</td>
                <td>{s.userAgent.slice(0, 120)}</td>
                <td>{formatTime(iso(s.createdAt))}</td>
                <td>{formatTime(iso(s.lastSeenAt))}</td>
                <td>{s.mfaPassed ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Sign out everywhere</h2>
      <p>Ends every session of your account on every device, this one included. Do this if a sign-in was not you, then change your password.</p>
      {confirming ? (
        <p>
          <button type="button" onClick={() => void signOutEverywhere()} disabled={busy}>Yes, sign out everywhere</button>{' '}
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
        </p>
      ) : <button type="button" onClick={() => setConfirming(true)}>Sign out everywhere…</button>}
    </section>
  );
}
