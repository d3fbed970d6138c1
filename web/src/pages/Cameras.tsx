// Cameras the user may see, and per camera a playback view: a time range, its recordings, the
// clip played by the browser's own <video>, and a signed evidence export of the range
// (NVR-5.2.7.1a: the server audits every playback and export).
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, downloadPost, isoFromLocal, localInputValue, messageOf, saveBlob } from '../api.ts';
import { ErrorMessage, Field, PageTitle } from '../ui.tsx';
import { LiveView } from './LiveView.tsx';
import { Timeline } from './Timeline.tsx';
import { AddOnvifCamera } from './AddOnvifCamera.tsx';

interface Camera { id: string; name: string; recordingMode: string; enabled: boolean; retentionDays: number }
/** The server's MAX_PLAYBACK_SECONDS. */
const MAX_PLAYBACK_MS = 300_000;

interface Health { id: string; state: 'recording' | 'connecting' | 'signal-lost' | 'stopped'; fps: number; bitrateKbps: number; lastFrameAt: string | null }
const HEALTH_POLL_MS = 5000;
const STATE_TEXT: Readonly<Record<Health['state'], string>> = { recording: 'Recording', connecting: 'Connecting…', 'signal-lost': 'SIGNAL LOST', stopped: 'Not recording' };

/** Camera health (state, rates, last frame), refreshed while the list is shown. */
function useCameraHealth(active: boolean): ReadonlyMap<string, Health> {
  const [health, setHealth] = useState<ReadonlyMap<string, Health>>(new Map());
  useEffect(() => {
    if (!active) return;
    let live = true;
    const load = (): void => {
      api<{ cameras: Health[] }>('GET', '/api/v1/cameras/health', undefined, { quiet: true, background: true })
        .then((r) => { if (live) setHealth(new Map(r.cameras.map((h) => [h.id, h]))); })
        .catch(() => undefined); // the next poll tries again; the list itself shows load errors
    };
    load();
    const timer = setInterval(load, HEALTH_POLL_MS);
    return () => { live = false; clearInterval(timer); };
  }, [active]);
  return health;
}

function HealthCell({ health }: { health: Health | undefined }): ReactNode {
  if (health === undefined) return <td>–</td>;
  const age = health.lastFrameAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(health.lastFrameAt)) / 1000));
  return (
    <td className={health.state === 'signal-lost' ? 'health-bad' : undefined}>
      {STATE_TEXT[health.state]}
      {health.state === 'recording' ? ` · ${health.fps} fps · ${health.bitrateKbps} kbit/s` : ''}
      {age !== null && health.state !== 'recording' ? ` · last frame ${age} s ago` : ''}
    </td>
  );
}

interface Segment { id: string; state: string; startedAt: string; endedAt: string | null; bytes: number }

export function CamerasPage({ canManage, canReadAlarms }: { canManage: boolean; canReadAlarms: boolean }): ReactNode {
  const [cameras, setCameras] = useState<Camera[] | null>(null);
  const [selected, setSelected] = useState<{ camera: Camera; view: 'live' | 'playback' } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const health = useCameraHealth(selected === null);
  const [adding, setAdding] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    api<{ cameras: Camera[] }>('GET', '/api/v1/cameras')
      .then((r) => { if (live) setCameras(r.cameras); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, [reload]);

  if (selected !== null) {
    return selected.view === 'live'
      ? <LiveView camera={selected.camera} onBack={() => setSelected(null)} />
      : <PlaybackView camera={selected.camera} canReadAlarms={canReadAlarms} onBack={() => setSelected(null)} />;
  }
  return (
    <section aria-labelledby="page-title">
      <PageTitle>Cameras</PageTitle>
      <ErrorMessage error={error} />
      {!canManage ? null : adding
        ? <AddOnvifCamera onAdded={() => { setAdding(false); setReload((n) => n + 1); }} onCancel={() => setAdding(false)} />
        : <p><button type="button" onClick={() => setAdding(true)}>Add camera by ONVIF</button></p>}
      {cameras === null ? (error === null ? <p role="status">Loading…</p> : null) : cameras.length === 0 ? <p>No cameras you may see.</p> : (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Recording</th><th scope="col">Enabled</th><th scope="col">Retention</th><th scope="col">Health</th><th scope="col">View</th></tr></thead>
          <tbody>
            {cameras.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td><td>{c.recordingMode}</td><td>{c.enabled ? 'yes' : 'no'}</td><td>{c.retentionDays} days</td>
                <HealthCell health={health.get(c.id)} />
                <td>
                  <button type="button" onClick={() => setSelected({ camera: c, view: 'live' })} aria-label={`Live ${c.name}`} disabled={!c.enabled}>Live</button>{' '}
                  <button type="button" onClick={() => setSelected({ camera: c, view: 'playback' })} aria-label={`Play back ${c.name}`}>Play back</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PlaybackView({ camera, canReadAlarms, onBack }: { camera: Camera; canReadAlarms: boolean; onBack: () => void }): ReactNode {
  const now = new Date();
  const [from, setFrom] = useState(localInputValue(new Date(now.getTime() - 10 * 60_000)));
  // The input has minute precision: round the end up so what was just recorded is included.
  const [to, setTo] = useState(localInputValue(new Date(now.getTime() + 60_000)));
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [clip, setClip] = useState<{ src: string; from: number; to: number } | null>(null);
  const [speed, setSpeed] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const player = useRef<HTMLVideoElement>(null);
  const base = `/api/v1/cameras/${encodeURIComponent(camera.id)}`;

  /** Plays up to 5 minutes (the server's bound) from the first recording at or after `startMs`, before `endMs`. */
  async function play(startMs: number, endMs: number): Promise<void> {
    setError(null);
    setClip(null);
    const query = new URLSearchParams({ from: new Date(startMs).toISOString(), to: new Date(endMs).toISOString() }).toString();
    try {
      const found = (await api<{ segments: Segment[] }>('GET', `${base}/recordings?${query}`)).segments;
      setSegments(found);
      const first = found[0];
      if (first === undefined) return;
      const begin = Math.max(startMs, Date.parse(first.startedAt));
      const stop = Math.min(endMs, begin + MAX_PLAYBACK_MS);
      setClip({ src: `${base}/playback?${new URLSearchParams({ from: new Date(begin).toISOString(), to: new Date(stop).toISOString() }).toString()}`, from: begin, to: stop });
    } catch (err) {
      setError(messageOf(err));
    }
  }

  function submit(event: FormEvent): void {
    event.preventDefault();
    let startMs: number;
    let endMs: number;
    try {
      startMs = Date.parse(isoFromLocal(from));
      endMs = Date.parse(isoFromLocal(to));
      if (endMs <= startMs) throw new Error('The end must be after the start.');
    } catch (err) {
      setError(messageOf(err));
      return;
    }
    void play(startMs, endMs);
  }

  useEffect(() => {
    if (player.current !== null) player.current.playbackRate = speed;
  }, [speed, clip]);

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Playback: {camera.name}</PageTitle>
      <button type="button" className="secondary" onClick={onBack}>Back to cameras</button>
      <form className="filters" onSubmit={submit} aria-label="Time range">
        <Field label="From" type="datetime-local" value={from} onChange={setFrom} required />
        <Field label="To" type="datetime-local" value={to} onChange={setTo} required />
        <div className="field actions"><button type="submit">Find and play</button></div>
      </form>
      <Timeline cameraId={camera.id} canReadAlarms={canReadAlarms} playingAt={clip?.from ?? null} onSeek={(at) => void play(at, at + MAX_PLAYBACK_MS)} />
      <ErrorMessage error={error} />
      {segments === null ? null : segments.length === 0 ? <p role="status">No recordings in this range.</p> : clip === null ? null : (
        <>
          <p role="status" data-testid="playing-range">Playing {new Date(clip.from).toLocaleString()} – {new Date(clip.to).toLocaleTimeString()} (at most 5 minutes per clip).</p>
          <video ref={player} key={clip.src} className="player" src={clip.src} controls autoPlay muted playsInline aria-label={`Recording of ${camera.name}`} onLoadedMetadata={(e) => { e.currentTarget.playbackRate = speed; }} onError={() => setError('The recording could not be played (it may be missing or fail its integrity check).')} />
          <label className="speed">Speed{' '}
            <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Playback speed">
              {[0.5, 1, 2, 4, 8].map((s) => <option key={s} value={s}>{s}×</option>)}
            </select>
          </label>
          <ExportForm camera={camera} range={{ from: new Date(clip.from).toISOString(), to: new Date(clip.to).toISOString() }} />
        </>
      )}
    </section>
  );
}

/** A signed evidence bundle of the chosen range, optionally encrypted with a password. */
function ExportForm({ camera, range }: { camera: Camera; range: { from: string; to: string } }): ReactNode {
  const [reason, setReason] = useState('');
  const [password, setPassword] = useState('');
  const [progress, setProgress] = useState<{ received: number; estimated: number } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    setDone(null);
    if (password !== '' && password.length < 12) {
      setError('A bundle password has at least 12 characters.');
      return;
    }
    setProgress({ received: 0, estimated: 0 });
    try {
      const body = { ...range, reason: reason.trim(), ...(password === '' ? {} : { password }) };
      const { blob, filename } = await downloadPost(`/api/v1/cameras/${encodeURIComponent(camera.id)}/export`, body, (received, estimated) => setProgress({ received, estimated }));
      saveBlob(blob, filename);
      setDone(`Exported ${filename} (${(blob.size / 1_048_576).toFixed(1)} MiB). Check it with “vigil verify” or the Verify evidence page.`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setProgress(null);
    }
  }

  return (
    <form className="export" onSubmit={(e) => void submit(e)} aria-label="Export evidence">
      <h2>Export evidence</h2>
      <Field label="Reason (recorded in the audit log and the bundle)" value={reason} onChange={setReason} required />
      <Field label="Bundle password (optional)" type="password" value={password} onChange={setPassword} autoComplete="new-password" hint="At least 12 characters; encrypts the bundle with AES-256-GCM. Without it the bundle is signed but readable." />
      <ErrorMessage error={error} />
      {progress === null ? null : (
        <p role="status">
          Exporting… <progress max={Math.max(progress.estimated, progress.received, 1)} value={progress.received} aria-label="Export progress" /> {(progress.received / 1_048_576).toFixed(1)} MiB
        </p>
      )}
      {done === null ? null : <p role="status" className="notice">{done}</p>}
      <div className="field actions"><button type="submit" disabled={progress !== null}>Export evidence</button></div>
    </form>
  );
}
