// Forced password change (NVR-5.4.2.1c first access, ACS-5.1.3.1 maximum age). The server
// revokes the other sessions and issues a new one with a new CSRF token.
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf, type SessionIssued } from '../api.ts';
import { Card, ErrorMessage, Field } from '../ui.tsx';

export function PasswordChangePage({ onSession, onLogout }: { onSession: (s: SessionIssued) => void; onLogout: () => void }): ReactNode {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    if (next !== repeat) {
      setError('The two new passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSession(await api<SessionIssued>('POST', '/api/v1/auth/password', { currentPassword: current, newPassword: next }));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Change your password">
      <p>Your password must be changed before you continue.</p>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Current password" name="current" type="password" value={current} onChange={setCurrent} autoComplete="current-password" required autoFocus />
        <Field label="New password" name="new" type="password" value={next} onChange={setNext} autoComplete="new-password" required hint="At least 12 characters, three character classes, not a recent password." />
        <Field label="Repeat new password" name="repeat" type="password" value={repeat} onChange={setRepeat} autoComplete="new-password" required />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>Change password</button>{' '}
        <button type="button" className="secondary" onClick={onLogout}>Sign out</button>
      </form>
    </Card>
  );
}
