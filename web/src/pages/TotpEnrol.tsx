// Forced second-factor enrolment (NVR-5.4.1.2a): a passkey, or TOTP. For TOTP the otpauth URL
// is shown as text to paste into an authenticator app (no QR code library: less code to trust);
// a first code confirms it. Either one, once verified, lets the session through.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf } from '../api.ts';
import { Card, ErrorMessage, Field } from '../ui.tsx';
import { AddPasskeyForm } from './Passkeys.tsx';

export function TotpEnrolPage({ onDone, onLogout }: { onDone: () => void; onLogout: () => void }): ReactNode {
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUrl: string } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api<{ secret: string; otpauthUrl: string }>('POST', '/api/v1/auth/mfa/totp/enrol', {})
      .then((e) => { if (live) setEnrolment(e); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/auth/mfa/totp/confirm', { code: code.trim() });
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Set up a second factor">
      <p>Your role requires a second factor. Use a passkey, or an authenticator app.</p>
      <h2>A passkey</h2>
      <p>On this device, a phone or a security key.</p>
      <AddPasskeyForm onAdded={onDone} submitLabel="Use a passkey" />
      <h2>Or an authenticator app</h2>
      <p>Add this account to an authenticator app, then enter the code it shows.</p>
      {enrolment === null ? <p role="status">Preparing…</p> : (
        <dl className="secret">
          <dt>Setup URL</dt>
          <dd><code data-testid="otpauth-url">{enrolment.otpauthUrl}</code></dd>
          <dt>Secret (to type in by hand)</dt>
          <dd><code data-testid="totp-secret">{enrolment.secret}</code></dd>
        </dl>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Code from the app" name="totp" value={code} onChange={setCode} inputMode="numeric" pattern="[0-9]{6}" autoComplete="one-time-code" required hint="6 digits" />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || enrolment === null}>Confirm</button>{' '}
        <button type="button" className="secondary" onClick={onLogout}>Sign out</button>
      </form>
    </Card>
  );
}
