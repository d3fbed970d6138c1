// Doors and their events (issue #8, the access-control pages): every door the user may see with
// its live state (open/closed, locked/unlocked, held-open and forced-open alarms), site lockdown
// for users who may control doors (audited by the server, ACS-5.2.1.12), and the latest access
// events (ACS-5.6.1.1), refreshed while the page is open. The API refuses what the role may not.
import { useEffect, useState, type ReactNode } from 'react';
import { api, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle, useAction } from '../ui.tsx';

interface Door { id: string; siteId: string; name: string; mode: string }
interface DoorStatus { doorId: string; open: boolean; unlocked: boolean; heldOpenAlarm: boolean; forcedOpenAlarm: boolean }
interface Site { id: string; name: string; lockdown: boolean }
interface AccessEvent { id: string; ts: string; type: string; outcome: string; reason: string; source: string; doorId: string | null }

const POLL_MS = 5000;
const EVENTS_SHOWN = 50;

function stateText(s: DoorStatus | undefined): string {
  if (s === undefined) return '–';
  const parts = [s.open ? 'open' : 'closed', s.unlocked ? 'unlocked' : 'locked'];
  if (s.forcedOpenAlarm) parts.push('FORCED OPEN');
  if (s.heldOpenAlarm) parts.push('HELD OPEN');
  return parts.join(' · ');
}

export function DoorsPage({ canControl }: { canControl: boolean }): ReactNode {
  const [doors, setDoors] = useState<Door[] | null>(null);
  const [status, setStatus] = useState<ReadonlyMap<string, DoorStatus>>(new Map());
  const [sites, setSites] = useState<Site[]>([]);
  const [events, setEvents] = useState<AccessEvent[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const { busy, error, run } = useAction();

  useEffect(() => {
    let live = true;
    const load = async (background: boolean): Promise<void> => {
      const options = { quiet: background, background };
      try {
        const found = (await api<{ doors: Door[] }>('GET', '/api/v1/access/doors', undefined, options)).doors;
        const states = await Promise.all(found.map((d) => api<DoorStatus>('GET', `/api/v1/access/doors/${encodeURIComponent(d.id)}/status`, undefined, options)));
        const recent = (await api<{ events: AccessEvent[] }>('GET', `/api/v1/access/events?limit=${EVENTS_SHOWN}`, undefined, options)).events;
        const siteList = canControl ? (await api<{ sites: Site[] }>('GET', '/api/v1/access/sites', undefined, options)).sites : [];
        if (!live) return;
        setDoors(found);
        setStatus(new Map(states.map((s) => [s.doorId, s])));
        setEvents(recent);
        setSites(siteList);
        setLoadError(null);
      } catch (err) {
        if (live) setLoadError(messageOf(err));
      }
    };
    void load(false);
    const timer = setInterval(() => void load(true), POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, [canControl, reload]);

  const names = new Map((doors ?? []).map((d) => [d.id, d.name]));
  const setLockdown = (site: Site, lockdown: boolean): void => {
    if (lockdown && !window.confirm(`Lock down every door of ${site.name}? Only holders with a lockdown override will get in.`)) return;
    void run(async () => {
      await api('PUT', `/api/v1/access/sites/${encodeURIComponent(site.id)}/lockdown`, { lockdown });
      setReload((n) => n + 1);
    });
  };

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Doors</PageTitle>
      <ErrorMessage error={loadError ?? error} />
      {sites.length === 0 ? null : (
        <ul className="sites" aria-label="Sites">
          {sites.map((s) => (
            <li key={s.id}>
              {s.name}: {s.lockdown ? <strong className="health-bad">LOCKDOWN</strong> : 'normal'}{' '}
              <button type="button" className={s.lockdown ? undefined : 'secondary'} disabled={busy} onClick={() => setLockdown(s, !s.lockdown)}>
                {s.lockdown ? `End lockdown of ${s.name}` : `Lock down ${s.name}`}
              </button>
            </li>
          ))}
        </ul>
      )}
      {doors === null ? (loadError === null ? <p role="status">Loading…</p> : null) : doors.length === 0 ? <p>No doors you may see.</p> : (
        <table>
          <thead><tr><th scope="col">Door</th><th scope="col">Mode</th><th scope="col">State</th></tr></thead>
          <tbody>
            {doors.map((d) => {
              const s = status.get(d.id);
              return (
                <tr key={d.id}>
                  <td>{d.name}</td><td>{d.mode.replaceAll('_', ' ')}</td>
                  <td className={s?.forcedOpenAlarm === true || s?.heldOpenAlarm === true ? 'health-bad' : undefined} data-testid={`door-state-${d.name}`}>{stateText(s)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h2>Latest access events</h2>
      {events.length === 0 ? <p>No access events yet.</p> : (
        <table aria-label="Access events">
          <thead><tr><th scope="col">Time</th><th scope="col">Door</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">Source</th></tr></thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.ts).toLocaleString()}</td>
                <td>{e.doorId === null ? '–' : (names.get(e.doorId) ?? e.doorId)}</td>
                <td>{e.type}{e.reason === '' ? '' : ` (${e.reason})`}</td>
                <td className={e.outcome === 'denied' || e.outcome === 'failure' ? 'health-bad' : undefined}>{e.outcome}</td>
                <td>{e.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
