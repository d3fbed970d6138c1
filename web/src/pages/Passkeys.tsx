// Passkeys as a second factor (NVR-5.4.1.2a): add one (a name, then the browser's
// navigator.credentials.create with the server's one-time challenge), and on the Account page
// list them and remove one. The server audits each change and refuses to remove the last second
// factor of a role that requires one (VIGIL_MFA_LAST_FACTOR); the page says so before asking.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, formatTime, messageOf } from '../api.ts';
import { createPasskey, passkeysSupported, type CreationOptionsJson } from '../passkey.ts';
import { ErrorMessage, Field, Notice } from '../ui.tsx';

export interface PasskeyView { id: string; name: string; transports: string[]; createdAt: number; lastUsedAt: number | null }
export interface MfaStatus { required: boolean; totpEnabled: boolean; passkeys: PasskeyView[] }

const iso = (ms: number): string => new Date(ms).toISOString();

/** Name, then the browser's passkey prompt; `onAdded` once the server has verified and stored it. */
export function AddPasskeyForm({ onAdded, submitLabel = 'Add passkey', autoFocus = false }: { onAdded: (name: string) => void; submitLabel?: string; autoFocus?: boolean }): ReactNode {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const supported = passkeysSupported();

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const label = name.trim();
    setBusy(true);
    setError(null);
    try {
      const options = await api<CreationOptionsJson>('POST', '/api/v1/auth/mfa/webauthn/register/options', {});
      const response = await createPasskey(options);
      await api('POST', '/api/v1/auth/mfa/webauthn/register', { name: label, response });
      setName('');
      onAdded(label);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  if (!supported) return <ErrorMessage error="This browser cannot use passkeys here (a current browser over HTTPS is needed)." />;
  return (
    <form aria-label="Add a passkey" onSubmit={(e) => void submit(e)}>
      <Field label="Passkey name" name="passkey-name" value={name} onChange={setName} required autoFocus={autoFocus} hint="To tell your passkeys apart, e.g. “Office laptop” or “Blue security key” (up to 64 characters)." />
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy || name.trim() === ''}>{busy ? 'Waiting for the passkey…' : submitLabel}</button>
    </form>
  );
}

/** The Account page's "Passkeys" section. */
export function PasskeysSection(): ReactNode {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (): Promise<void> => {
    setStatus(await api<MfaStatus>('GET', '/api/v1/auth/mfa'));
  }, []);

  useEffect(() => {
    let live = true;
    api<MfaStatus>('GET', '/api/v1/auth/mfa')
      .then((s) => { if (live) setStatus(s); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  async function remove(key: PasskeyView): Promise<void> {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await api('DELETE', `/api/v1/auth/mfa/webauthn/${encodeURIComponent(key.id)}`);
      setConfirming(null);
      setDone(`Passkey “${key.name}” removed.`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  function added(name: string): void {
    setDone(`Passkey “${name}” added.`);
    setError(null);
    load().catch((err: unknown) => setError(messageOf(err)));
  }

  // Mirrors the server's rule (VIGIL_MFA_LAST_FACTOR): the server decides, this only explains.
  const lastFactor = status !== null && status.required && !status.totpEnabled && status.passkeys.length === 1;

  return (
    <section aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      <p>A passkey (on this device, a phone or a security key) can be your second factor at sign-in{status?.totpEnabled === true ? ', besides your authenticator app' : ''}.</p>
      {done === null ? null : <Notice>{done}</Notice>}
      <ErrorMessage error={error} />
      {status === null ? (error === null ? <p role="status">Loading…</p> : null) : status.passkeys.length === 0 ? <p>No passkeys yet.</p> : (
        <table aria-labelledby="passkeys-title">
          <thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {status.passkeys.map((k) => (
              <tr key={k.id} data-testid="passkey" data-passkey={k.name}>
                <td>{k.name}</td>
                <td>{formatTime(iso(k.createdAt))}</td>
                <td data-testid="passkey-last-used">{k.lastUsedAt === null ? 'never' : formatTime(iso(k.lastUsedAt))}</td>
                <td>
                  {confirming === k.id ? (
                    <>
                      <button type="button" onClick={() => void remove(k)} disabled={busy}>Yes, remove “{k.name}”</button>{' '}
                      <button type="button" className="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                    </>
                  ) : (
                    <button type="button" className="secondary" aria-label={`Remove passkey ${k.name}`} disabled={lastFactor} onClick={() => { setDone(null); setConfirming(k.id); }}>Remove…</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {lastFactor ? <p className="hint" data-testid="last-factor">Your role requires a second factor and this passkey is your only one: add another passkey (or have an administrator reset your second factors) before removing it.</p> : null}
      <h3>Add a passkey</h3>
      <AddPasskeyForm onAdded={added} />
    </section>
  );
}
