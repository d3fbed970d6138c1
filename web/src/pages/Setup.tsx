// First run (NVR-5.4.2.1b): no default account; the administrator is created with the one-time
// token printed on the machine's console.
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, messageOf } from '../api.ts';
import { Card, ErrorMessage, Field } from '../ui.tsx';

export function SetupPage({ onDone }: { onDone: (username: string) => void }): ReactNode {
  const [token, setToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    if (password !== repeat) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const created = await api<{ username: string }>('POST', '/api/v1/setup', { token: token.trim(), username, password });
      onDone(created.username);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="First-run setup">
      <p>Create the first administrator. The setup token was printed on the console where Vigil was started (or run <code>vigil setup</code>).</p>
      <form onSubmit={(e) => void submit(e)} aria-describedby="setup-policy">
        <Field label="Setup token" name="token" value={token} onChange={setToken} autoComplete="off" required autoFocus />
        <Field label="Administrator user name" name="username" value={username} onChange={setUsername} autoComplete="username" required />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} autoComplete="new-password" required />
        <Field label="Repeat password" name="repeat" type="password" value={repeat} onChange={setRepeat} autoComplete="new-password" required />
        <p className="hint" id="setup-policy">At least 12 characters with three of: upper case, lower case, digits, symbols; not the user name.</p>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>Create administrator</button>
      </form>
    </Card>
  );
}
