// Users and roles (NVR-5.4.3.1a: roles with per-camera / per-door scope; NVR-5.4.2.1c: a new
// user changes the initial password at first sign-in; ACS-5.2.1.13: sign a user out
// everywhere). Reading needs users.read, every change users.manage: the buttons follow the
// principal's permissions, and the API refuses regardless (and audits every change).
import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { api, can, formatTime, messageOf, type Grant, type Principal } from '../api.ts';
import { ErrorMessage, Field, Notice, PageTitle } from '../ui.tsx';

interface User {
  id: string; username: string; displayName: string; email: string; grants: Grant[]; disabled: boolean; mustChangePassword: boolean;
  lockedUntil: string | null; totpEnabled: boolean; webauthnCredentials: number; createdAt: string; lastLoginAt: string | null; lastLoginFrom: string | null;
}
interface UserSession { id: string; createdAt: string; lastSeenAt: string; sourceIp: string; userAgent: string }
interface Camera { id: string; name: string }

const ROLES = ['administrator', 'operator', 'viewer', 'auditor', 'installer'] as const;
const SCOPES = ['global', 'camera', 'door', 'site'] as const;

function grantText(g: Grant, cameras: ReadonlyMap<string, string>): string {
  if (g.scopeKind === 'global') return `${g.role} (all)`;
  const name = g.scopeKind === 'camera' ? cameras.get(g.scopeId) : undefined;
  return `${g.role} on ${g.scopeKind} ${name ?? g.scopeId}`;
}

export function UsersPage({ principal }: { principal: Principal }): ReactNode {
  const manage = can(principal, 'users.manage');
  const [users, setUsers] = useState<User[] | null>(null);
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async (): Promise<void> => {
    try {
      setUsers((await api<{ users: User[] }>('GET', '/api/v1/users?limit=500')).users);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load();
    // Camera names for the scopes; without camera.view the ids are shown.
    if (can(principal, 'camera.view')) api<{ cameras: Camera[] }>('GET', '/api/v1/cameras').then((r) => setCameras(r.cameras)).catch(() => undefined);
  }, [load, principal]);

  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const selected = users?.find((u) => u.id === open);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>Users</PageTitle>
      <ErrorMessage error={error} />
      {manage && !creating ? <p><button type="button" onClick={() => setCreating(true)}>New user…</button></p> : null}
      {manage && creating ? <NewUserForm cameras={cameras} onDone={(id) => { setCreating(false); void load(); if (id !== null) setOpen(id); }} /> : null}
      {users === null ? (error === null ? <p role="status">Loading…</p> : null) : (
        <table>
          <caption className="visually-hidden">Users</caption>
          <thead><tr><th scope="col">User</th><th scope="col">Roles</th><th scope="col">Second factor</th><th scope="col">Status</th><th scope="col">Last sign-in</th><th scope="col">Action</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-user={u.username}>
                <th scope="row">{u.username}{u.displayName === '' ? null : <><br /><small>{u.displayName}</small></>}</th>
                <td><ul className="plain">{u.grants.length === 0 ? <li>none</li> : u.grants.map((g) => <li key={`${g.role}|${g.scopeKind}|${g.scopeId}`}>{grantText(g, names)}</li>)}</ul></td>
                <td>{[u.totpEnabled ? 'TOTP' : '', u.webauthnCredentials > 0 ? `${u.webauthnCredentials} key(s)` : ''].filter((x) => x !== '').join(', ') || 'none'}</td>
                <td>{[u.disabled ? 'disabled' : 'enabled', u.lockedUntil === null ? '' : `locked until ${formatTime(u.lockedUntil)}`, u.mustChangePassword ? 'must change password' : ''].filter((x) => x !== '').join(', ')}</td>
                <td>{u.lastLoginAt === null ? 'never' : <>{formatTime(u.lastLoginAt)}<br /><code>{u.lastLoginFrom}</code></>}</td>
                <td><button type="button" className="secondary" onClick={() => setOpen(open === u.id ? null : u.id)} aria-expanded={open === u.id} aria-label={`Details of ${u.username}`}>Details</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected === undefined ? null : <UserDetail key={selected.id} user={selected} self={selected.id === principal.userId} manage={manage} cameras={cameras} names={names} onChanged={() => void load()} />}
    </section>
  );
}

function GrantFields({ value, onChange, cameras }: { value: Grant; onChange: (g: Grant) => void; cameras: Camera[] }): ReactNode {
  const id = useId();
  return (
    <div className="filters">
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={value.role} onChange={(e) => onChange({ ...value, role: e.target.value })}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-scope`}>Scope</label>
        <select id={`${id}-scope`} value={value.scopeKind} onChange={(e) => onChange({ ...value, scopeKind: e.target.value, scopeId: e.target.value === 'camera' ? (cameras[0]?.id ?? '') : '' })}>
          {SCOPES.map((s) => <option key={s} value={s}>{s === 'global' ? 'everything' : `one ${s}`}</option>)}
        </select>
      </div>
      {value.scopeKind === 'camera' && cameras.length > 0 ? (
        <div className="field">
          <label htmlFor={`${id}-camera`}>Camera</label>
          <select id={`${id}-camera`} value={value.scopeId} onChange={(e) => onChange({ ...value, scopeId: e.target.value })}>
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </div>
      ) : value.scopeKind === 'global' ? null : (
        <Field label={`${value.scopeKind[0]?.toUpperCase() ?? ''}${value.scopeKind.slice(1)} id`} value={value.scopeId} onChange={(scopeId) => onChange({ ...value, scopeId })} required />
      )}
    </div>
  );
}

function NewUserForm({ cameras, onDone }: { cameras: Camera[]; onDone: (id: string | null) => void }): ReactNode {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [grant, setGrant] = useState<Grant>({ role: 'operator', scopeKind: 'global', scopeId: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    try {
      const scope = grant.scopeKind === 'global' ? { role: grant.role, scopeKind: 'global' } : grant;
      const created = await api<User>('POST', '/api/v1/users', { username, password, ...(displayName === '' ? {} : { displayName }), grants: [scope] });
      onDone(created.id);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <Field label="User name" value={username} onChange={setUsername} required autoComplete="off" />
      <Field label="Display name" value={displayName} onChange={setDisplayName} autoComplete="off" />
      <Field label="Initial password" type="password" value={password} onChange={setPassword} required autoComplete="new-password"
        hint="At least 12 characters of 3 kinds. The user must change it at the first sign-in." />
      <GrantFields value={grant} onChange={setGrant} cameras={cameras} />
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>Create user</button>{' '}
      <button type="button" className="secondary" onClick={() => onDone(null)}>Cancel</button>
    </form>
  );
}

function UserDetail({ user, self, manage, cameras, names, onChanged }: {
  user: User; self: boolean; manage: boolean; cameras: Camera[]; names: ReadonlyMap<string, string>; onChanged: () => void;
}): ReactNode {
  const [sessions, setSessions] = useState<UserSession[] | null>(null);
  const [grant, setGrant] = useState<Grant>({ role: 'viewer', scopeKind: 'camera', scopeId: cameras[0]?.id ?? '' });
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/api/v1/users/${encodeURIComponent(user.id)}`;

  const loadSessions = useCallback(() => {
    api<{ sessions: UserSession[] }>('GET', `${base}/sessions`).then((r) => setSessions(r.sessions)).catch((err: unknown) => setError(messageOf(err)));
  }, [base]);
  useEffect(loadSessions, [loadSessions]);

  async function act(what: string, run: () => Promise<unknown>): Promise<void> {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await run();
      setDone(what);
      onChanged();
      loadSessions();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  const grantBody = (g: Grant): object => (g.scopeKind === 'global' ? { role: g.role, scopeKind: 'global' } : g);

  return (
    <section className="panel" aria-labelledby="user-detail-title">
      <h2 id="user-detail-title">{user.username}</h2>
      {done === null ? null : <Notice>{done}</Notice>}
      <ErrorMessage error={error} />
      <h3>Roles</h3>
      <ul className="plain">
        {user.grants.map((g) => (
          <li key={`${g.role}|${g.scopeKind}|${g.scopeId}`}>
            {grantText(g, names)}{' '}
            {manage ? <button type="button" className="secondary" disabled={busy} aria-label={`Remove ${grantText(g, names)}`}
              onClick={() => void act('Role removed; the user\'s sessions ended.', () => api('POST', `${base}/grants/revoke`, grantBody(g)))}>Remove</button> : null}
          </li>
        ))}
      </ul>
      {manage ? (
        <form onSubmit={(e) => { e.preventDefault(); void act('Role added; the user\'s sessions ended.', () => api('POST', `${base}/grants`, grantBody(grant))); }}>
          <GrantFields value={grant} onChange={setGrant} cameras={cameras} />
          <button type="submit" disabled={busy}>Add role</button>
        </form>
      ) : null}
      <h3>Sessions</h3>
      {sessions === null ? <p role="status">Loading…</p> : sessions.length === 0 ? <p data-testid="user-sessions">No open sessions.</p> : (
        <ul className="plain" data-testid="user-sessions">
          {sessions.map((s) => <li key={s.id}><code>{s.sourceIp}</code> since {formatTime(s.createdAt)}, last active {formatTime(s.lastSeenAt)}</li>)}
        </ul>
      )}
      {manage ? (
        <div className="actions-row">
          <button type="button" disabled={busy} onClick={() => void act('Signed out everywhere.', () => api('POST', `${base}/sessions/revoke-all`, {}))}>Sign out everywhere</button>
          {user.disabled
            ? <button type="button" disabled={busy} onClick={() => void act('User enabled.', () => api('PATCH', base, { disabled: false }))}>Enable</button>
            : <button type="button" disabled={busy || self} title={self ? 'You cannot disable yourself here' : undefined} onClick={() => void act('User disabled; the user\'s sessions ended.', () => api('PATCH', base, { disabled: true }))}>Disable</button>}
          {user.lockedUntil === null ? null : <button type="button" disabled={busy} onClick={() => void act('User unlocked.', () => api('POST', `${base}/unlock`, {}))}>Unlock</button>}
          {user.totpEnabled || user.webauthnCredentials > 0
            ? <button type="button" disabled={busy} onClick={() => void act('Second factors removed; the user enrols again at the next sign-in.', () => api('POST', `${base}/mfa-reset`, {}))}>Reset second factor</button> : null}
        </div>
      ) : null}
      {manage ? (
        <form onSubmit={(e) => { e.preventDefault(); void act('Password reset; the user must change it at the next sign-in.', () => api('POST', `${base}/password-reset`, { newPassword: password })).then(() => setPassword('')); }}>
          <Field label="New initial password" type="password" value={password} onChange={setPassword} required autoComplete="new-password" />
          <button type="submit" disabled={busy}>Reset password</button>
        </form>
      ) : null}
    </section>
  );
}
