// The security event log (ACS-5.6.1.17), read-only, for roles holding audit.read. The API
// refuses everyone else; the navigation hides the page when it does.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, formatTime, isoFromLocal, messageOf } from '../api.ts';
import { ErrorMessage, Field, PageTitle } from '../ui.tsx';

interface AuditEvent {
  seq: number;
  ts: string;
  category: string;
  action: string;
  actor: string;
  source: string;
  target: string;
  outcome: string;
}

interface Filters { from: string; to: string; actor: string; action: string; category: string; outcome: string }
const EMPTY: Filters = { from: '', to: '', actor: '', action: '', category: '', outcome: '' };

function queryOf(f: Filters): string {
  const q = new URLSearchParams({ limit: '200', order: 'newest' });
  if (f.from !== '') q.set('from', isoFromLocal(f.from));
  if (f.to !== '') q.set('to', isoFromLocal(f.to));
  for (const key of ['actor', 'action', 'category', 'outcome'] as const) if (f[key].trim() !== '') q.set(key, f[key].trim());
  return q.toString();
}

export function AuditPage(): ReactNode {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (filters: Filters): Promise<void> => {
    try {
      setEvents((await api<{ events: AuditEvent[] }>('GET', `/api/v1/audit/events?${queryOf(filters)}`)).events);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, []);

  useEffect(() => {
    void load(applied);
  }, [applied, load]);

  function submit(event: FormEvent): void {
    event.preventDefault();
    setApplied({ ...draft });
  }
  const set = (key: keyof Filters) => (value: string): void => setDraft((d) => ({ ...d, [key]: value }));

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Audit log</PageTitle>
      <form className="filters" onSubmit={submit} aria-label="Filter events">
        <Field label="From" type="datetime-local" value={draft.from} onChange={set('from')} />
        <Field label="To" type="datetime-local" value={draft.to} onChange={set('to')} />
        <Field label="Actor" value={draft.actor} onChange={set('actor')} hint="e.g. user:site-admin" />
        <Field label="Action" value={draft.action} onChange={set('action')} hint="e.g. auth.login" />
        <Field label="Category" value={draft.category} onChange={set('category')} />
        <div className="field">
          <label htmlFor="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={draft.outcome} onChange={(e) => set('outcome')(e.target.value)}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        </div>
        <div className="field actions">
          <button type="submit">Apply filters</button>{' '}
          <button type="button" className="secondary" onClick={() => { setDraft(EMPTY); setApplied(EMPTY); }}>Reset</button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {events === null ? <p role="status">Loading…</p> : events.length === 0 ? <p>No events match.</p> : (
        <table>
          <caption className="visually-hidden">Security events, newest first (at most 200)</caption>
          <thead>
            <tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Category</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Source</th><th scope="col">Target</th><th scope="col">Outcome</th></tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} className={`outcome-${e.outcome}`}>
                <td>{e.seq}</td><td>{formatTime(e.ts)}</td><td>{e.category}</td><td>{e.action}</td><td>{e.actor}</td><td>{e.source}</td><td>{e.target}</td><td>{e.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
