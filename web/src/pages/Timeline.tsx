// A camera's recordings on a zoomable timeline (issue #8): recorded spans as bars, gaps as gaps,
// the camera's alarms as markers (for users who may read alarms); a click seeks playback to that
// moment, a marker jumps to its alarm. Zoom 1 h / 6 h / 24 h / 7 d, pan by half a window.
import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { api, messageOf } from '../api.ts';
import { ErrorMessage } from '../ui.tsx';

const SPANS = [
  { label: '1 h', ms: 3_600_000 },
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
  { label: '7 d', ms: 7 * 24 * 3_600_000 },
] as const;
const MAX_SEGMENTS = 5000;

interface Span { startedAt: string; endedAt: string | null }
interface CameraAlarm { id: string; type: string; message: string; raisedAt: string; source: string }

const clock = (ms: number, span: number): string =>
  span > 24 * 3_600_000 ? new Date(ms).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function Timeline({ cameraId, canReadAlarms, playingAt, onSeek }: {
  cameraId: string;
  canReadAlarms: boolean;
  /** Epoch ms being played, shown as a cursor. */
  playingAt: number | null;
  onSeek: (atMs: number) => void;
}): ReactNode {
  const [spanIndex, setSpanIndex] = useState(0);
  const [end, setEnd] = useState(() => Date.now() + 60_000);
  const [segments, setSegments] = useState<Span[]>([]);
  const [alarms, setAlarms] = useState<CameraAlarm[]>([]);
  const [error, setError] = useState<string | null>(null);
  const span = SPANS[spanIndex]?.ms ?? SPANS[0].ms;
  const start = end - span;

  useEffect(() => {
    let live = true;
    const query = new URLSearchParams({ from: new Date(start).toISOString(), to: new Date(end).toISOString(), limit: String(MAX_SEGMENTS) });
    api<{ segments: Span[] }>('GET', `/api/v1/cameras/${encodeURIComponent(cameraId)}/recordings?${query.toString()}`)
      .then((r) => { if (live) { setSegments(r.segments); setError(null); } })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    if (canReadAlarms) {
      api<{ alarms: CameraAlarm[] }>('GET', '/api/v1/alarms?limit=1000')
        .then((r) => { if (live) setAlarms(r.alarms.filter((a) => a.source === `camera:${cameraId}`)); })
        .catch(() => undefined); // markers are a help; the recordings are what matters
    }
    return () => { live = false; };
  }, [cameraId, canReadAlarms, start, end]);

  const percent = (ms: number): number => Math.min(100, Math.max(0, ((ms - start) / span) * 100));
  const seekAt = (event: MouseEvent<HTMLDivElement>): void => {
    const box = event.currentTarget.getBoundingClientRect();
    onSeek(Math.round(start + ((event.clientX - box.left) / box.width) * span));
  };
  const shown = alarms.filter((a) => { const t = Date.parse(a.raisedAt); return t >= start && t <= end; });

  return (
    <div className="timeline-panel" aria-label="Timeline">
      <div className="timeline-controls">
        <button type="button" className="secondary" onClick={() => setEnd(end - span / 2)} aria-label="Earlier">◀</button>
        {SPANS.map((s, i) => <button key={s.label} type="button" className={i === spanIndex ? undefined : 'secondary'} aria-pressed={i === spanIndex} onClick={() => setSpanIndex(i)}>{s.label}</button>)}
        <button type="button" className="secondary" onClick={() => setEnd(Math.min(Date.now() + 60_000, end + span / 2))} aria-label="Later">▶</button>
        <button type="button" className="secondary" onClick={() => setEnd(Date.now() + 60_000)}>Now</button>
      </div>
      <ErrorMessage error={error} />
      {/* Pointer seeking; keyboard users pick the time in the From/To form above. */}
      <div className="timeline" data-testid="timeline" onClick={seekAt} title="Click to play from this moment">
        {segments.map((s) => {
          const from = percent(Date.parse(s.startedAt));
          const to = percent(s.endedAt === null ? Date.now() : Date.parse(s.endedAt));
          return <span key={s.startedAt} className="recorded" style={{ left: `${from}%`, width: `${Math.max(0.2, to - from)}%` }} />;
        })}
        {shown.map((a) => <span key={a.id} className="alarm-mark" style={{ left: `${percent(Date.parse(a.raisedAt))}%` }} title={a.message} />)}
        {playingAt === null || playingAt < start || playingAt > end ? null : <span className="cursor" style={{ left: `${percent(playingAt)}%` }} />}
      </div>
      <div className="timeline-ticks"><span>{clock(start, span)}</span><span>{clock(start + span / 2, span)}</span><span>{clock(end, span)}</span></div>
      {shown.length === 0 ? null : (
        <ul className="timeline-alarms" aria-label="Alarms of this camera">
          {shown.map((a) => (
            <li key={a.id}>
              <button type="button" className="link" onClick={() => onSeek(Math.max(start, Date.parse(a.raisedAt) - 10_000))}>
                {new Date(a.raisedAt).toLocaleTimeString()} — {a.message}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
