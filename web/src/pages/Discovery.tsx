// Device discovery toggles for administrators (NVR-5.3.2.1a, CAM-5.3.2.2, CAM-T-com-2): each
// protocol is off on a fresh install; a change applies at once and is audited by the server.
// SNMP needs its SNMPv3 user first; passphrases are sent once and never shown again.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, api, messageOf } from '../api.ts';
import { ErrorMessage, Field, Notice } from '../ui.tsx';

type Protocol = 'ws-discovery' | 'ssdp' | 'mdns' | 'snmp';

interface DiscoveryState {
  protocols: Array<{ protocol: Protocol; enabled: boolean; listening: boolean; port: number | null; unavailable: string | null }>;
  snmpUser: { username: string; authProtocol: string; privProtocol: string } | null;
}

const LABELS: Record<Protocol, string> = {
  'ws-discovery': 'ONVIF WS-Discovery (UDP 3702)',
  ssdp: 'SSDP / UPnP (UDP 1900)',
  mdns: 'mDNS / Bonjour (UDP 5353)',
  snmp: 'SNMPv3, read-only (UDP 161)',
};

export function DiscoverySection(): ReactNode {
  const [state, setState] = useState<DiscoveryState | null>(null);
  const [hidden, setHidden] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [username, setUsername] = useState('');
  const [authPassphrase, setAuthPassphrase] = useState('');
  const [privPassphrase, setPrivPassphrase] = useState('');
  const [authProtocol, setAuthProtocol] = useState<'sha512' | 'sha256'>('sha512');

  useEffect(() => {
    let live = true;
    api<DiscoveryState>('GET', '/api/v1/system/discovery')
      .then((s) => { if (live) setState(s); })
      .catch((err: unknown) => {
        if (!live) return;
        // Only administrators (system.manage) see this section at all.
        if (err instanceof ApiError && err.status === 403) setHidden(true);
        else setError(messageOf(err));
      });
    return () => { live = false; };
  }, []);

  const run = async (work: () => Promise<DiscoveryState>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setState(await work());
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (protocol: Protocol, enabled: boolean): Promise<void> => run(() => api<DiscoveryState>('PUT', '/api/v1/system/discovery', { [protocol]: enabled }));

  const saveUser = (e: FormEvent): void => {
    e.preventDefault();
    void run(async () => {
      const s = await api<DiscoveryState>('PUT', '/api/v1/system/discovery/snmp-user', { username, authProtocol, privProtocol: 'aes128', authPassphrase, privPassphrase });
      setAuthPassphrase('');
      setPrivPassphrase('');
      return s;
    });
  };

  if (hidden) return null;
  return (
    <section aria-labelledby="discovery-title" data-testid="discovery">
      <h2 id="discovery-title">Device discovery</h2>
      <p>Off on a fresh install. Each protocol answers only while turned on here; every change is recorded in the audit log.</p>
      <ErrorMessage error={error} />
      {state === null ? (error === null ? <p role="status">Loading…</p> : null) : (
        <>
          <table>
            <thead><tr><th scope="col">Protocol</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
            <tbody>
              {state.protocols.map((p) => (
                <tr key={p.protocol} data-testid={`discovery-${p.protocol}`}>
                  <td>{LABELS[p.protocol]}</td>
                  <td>{p.enabled ? (p.listening ? `on, answering on port ${p.port ?? ''}` : 'on, not answering (see the log)') : 'off'}{p.unavailable === null ? null : <><br /><small>{p.unavailable}</small></>}</td>
                  <td>
                    <button type="button" disabled={busy || (p.unavailable !== null && !p.enabled) || (p.protocol === 'snmp' && !p.enabled && state.snmpUser === null)} onClick={() => void toggle(p.protocol, !p.enabled)}>
                      {p.enabled ? 'Turn off' : 'Turn on'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>SNMPv3 user</h3>
          {state.snmpUser === null
            ? <Notice>No SNMPv3 user: SNMP cannot be turned on. SNMPv1/v2c community strings are never used.</Notice>
            : <p data-testid="snmp-user">User <strong>{state.snmpUser.username}</strong>, authPriv ({state.snmpUser.authProtocol.toUpperCase()}, {state.snmpUser.privProtocol.toUpperCase()}). Setting a new user replaces it.</p>}
          <form onSubmit={saveUser}>
            <Field label="User name" value={username} onChange={setUsername} required autoComplete="off" />
            <div className="field">
              <label htmlFor="snmp-auth-protocol">Authentication</label>
              <select id="snmp-auth-protocol" value={authProtocol} onChange={(e) => setAuthProtocol(e.target.value === 'sha256' ? 'sha256' : 'sha512')}>
                <option value="sha512">HMAC-SHA-512</option>
                <option value="sha256">HMAC-SHA-256</option>
              </select>
            </div>
            <Field label="Authentication passphrase" type="password" value={authPassphrase} onChange={setAuthPassphrase} required autoComplete="new-password" hint="At least 12 characters, 3 of 4 character classes, not containing the user name." />
            <Field label="Privacy (AES-128) passphrase" type="password" value={privPassphrase} onChange={setPrivPassphrase} required autoComplete="new-password" hint="Different from the authentication passphrase." />
            <button type="submit" disabled={busy}>Save SNMPv3 user</button>
          </form>
        </>
      )}
    </section>
  );
}
