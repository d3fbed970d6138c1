// Alarms (NVR-5.2.7.2a): polled every few seconds, acknowledged with a comment.
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, formatTime, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle } from '../ui.tsx';

interface Alarm {
  id: string;
  type: string;
  severity: string;
  source: string;
  message: string;
  state: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
}

const POLL_MS = 5_000;

export function AlarmsPage({ canAcknowledge }: { canAcknowledge: boolean }): ReactNode {
  const [state, setState] = useState<'active' | 'acknowledged' | 'cleared' | ''>('');
  const [alarms, setAlarms] = useState<Alarm[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [acking, setAcking] = useState<string | null>(null);

  const load = useCallback(async (): Promise<void> => {
    const query = new URLSearchParams({ limit: '200' });
    if (state !== '') query.set('state', state);
    try {
      const result = await api<{ alarms: Alarm[] }>('GET', `/api/v1/alarms?${query.toString()}`);
      setAlarms(result.alarms);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [state]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const tick = async (): Promise<void> => {
      await load();
      if (live) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [load]);

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Alarms</PageTitle>
      <div className="toolbar">
        <label htmlFor="alarm-state">Show</label>
        <select id="alarm-state" value={state} onChange={(e) => setState(e.target.value as typeof state)}>
          <option value="">All</option>
          <option value="active">Active</option>
          <option value="acknowledged">Acknowledged</option>
          <option value="cleared">Cleared</option>
        </select>
        <span className="hint" aria-live="off">Updates every {POLL_MS / 1000} s</span>
      </div>
      <ErrorMessage error={error} />
      {alarms === null ? <p role="status">Loading…</p> : alarms.length === 0 ? <p>No alarms.</p> : (
        <table>
          <caption className="visually-hidden">Alarms, newest first</caption>
          <thead>
            <tr><th scope="col">Severity</th><th scope="col">Raised</th><th scope="col">Type</th><th scope="col">Source</th><th scope="col">Message</th><th scope="col">State</th><th scope="col">Action</th></tr>
          </thead>
          <tbody>
            {alarms.map((a) => (
              <tr key={a.id} className={`severity-${a.severity}`} data-alarm-type={a.type}>
                <td><span className="badge">{a.severity}</span></td>
                <td>{formatTime(a.raisedAt)}</td>
                <td>{a.type}</td>
                <td>{a.source}</td>
                <td>{a.message}</td>
                <td>{a.state}{a.ackComment === null ? null : <><br /><small>{a.acknowledgedBy}: “{a.ackComment}”</small></>}</td>
                <td>
                  {a.state !== 'active' || !canAcknowledge ? null : acking === a.id
                    ? <AckForm alarm={a} onDone={() => { setAcking(null); void load(); }} onCancel={() => setAcking(null)} />
                    : <button type="button" onClick={() => setAcking(a.id)} aria-label={`Acknowledge ${a.type} alarm from ${a.source}`}>Acknowledge</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AckForm({ alarm, onDone, onCancel }: { alarm: Alarm; onDone: () => void; onCancel: () => void }): ReactNode {
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `ack-${alarm.id}`;

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    try {
      await api('POST', `/api/v1/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, { comment });
      onDone();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <form className="ack" onSubmit={(e) => void submit(e)}>
      <label htmlFor={id}>Comment</label>
      <textarea id={id} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={1000} rows={2} autoFocus required />
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>Confirm acknowledge</button>{' '}
      <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
    </form>
  );
}
