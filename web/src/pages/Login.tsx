// Login: password, then the second factor when the account has one (NVR-5.4.1.2a): a TOTP code
// or a passkey (navigator.credentials.get with the server's one-time challenge). A passkey prompt
// that fails in the browser spends nothing: the user can try again or type a code instead.
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, type MfaRequired, type SessionIssued } from '../api.ts';
import { getPasskey, type RequestOptionsJson } from '../passkey.ts';
import { Card, ErrorMessage, Field, Notice, useAction } from '../ui.tsx';

export function LoginPage({ notice, onSession }: { notice: string | null; onSession: (s: SessionIssued) => void }): ReactNode {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [mfa, setMfa] = useState<MfaRequired | null>(null);
  const [code, setCode] = useState('');
  const { busy, error, setError, run } = useAction();

  function submitPassword(event: FormEvent): void {
    event.preventDefault();
    void run(async () => {
      const result = await api<SessionIssued | MfaRequired>('POST', '/api/v1/auth/login', { username, password }, { quiet: true });
      setPassword('');
      if (result.status === 'authenticated') onSession(result);
      else setMfa(result);
    });
  }

  function submitCode(event: FormEvent): void {
    event.preventDefault();
    if (mfa === null) return;
    void run(async () => {
      onSession(await api<SessionIssued>('POST', '/api/v1/auth/login/totp', { mfaToken: mfa.mfaToken, code: code.trim() }, { quiet: true }));
    });
  }

  function signInWithPasskey(): void {
    if (mfa === null) return;
    void run(async () => {
      const options = await api<RequestOptionsJson>('POST', '/api/v1/auth/login/webauthn/options', { mfaToken: mfa.mfaToken }, { quiet: true });
      const response = await getPasskey(options);
      try {
        onSession(await api<SessionIssued>('POST', '/api/v1/auth/login/webauthn', { mfaToken: mfa.mfaToken, response }, { quiet: true }));
      } catch (err) {
        // The server spends the sign-in on any answer, right or wrong: start again from the password.
        setMfa(null);
        throw err;
      }
    });
  }

  if (mfa !== null) {
    const back = (): void => { setMfa(null); setCode(''); setError(null); };
    const passkey = mfa.methods.includes('webauthn');
    const totp = mfa.methods.includes('totp');
    return (
      <Card title="Second factor">
        {passkey ? (
          <div className="passkey-step">
            <button type="button" onClick={signInWithPasskey} disabled={busy} autoFocus={!totp}>{busy ? 'Waiting for the passkey…' : 'Use a passkey'}</button>
            {totp ? <p className="hint">or enter a code from your authenticator app:</p> : null}
          </div>
        ) : null}
        {totp ? (
          <form onSubmit={submitCode}>
            <Field label="Code from your authenticator app" name="totp" value={code} onChange={setCode} inputMode="numeric" pattern="[0-9]{6}" autoComplete="one-time-code" required autoFocus hint="6 digits" />
            <button type="submit" disabled={busy}>Verify</button>
          </form>
        ) : null}
        <ErrorMessage error={error} />
        <p><button type="button" className="secondary" onClick={back}>Back</button></p>
      </Card>
    );
  }

  return (
    <Card title="Sign in">
      {notice === null ? null : <Notice>{notice}</Notice>}
      <form onSubmit={submitPassword}>
        <Field label="User name" name="username" value={username} onChange={setUsername} autoComplete="username" required autoFocus />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" required />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      <p><a href="#/verify">Verify an evidence bundle</a> (no sign-in needed)</p>
    </Card>
  );
}
