// Cameras the user may see, and per camera a playback view: a time range, its recordings, and
// the clip played by the browser's own <video> (NVR-5.2.7.1a: the server audits every playback).
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, formatTime, isoFromLocal, localInputValue, messageOf } from '../api.ts';
import { ErrorMessage, Field, PageTitle } from '../ui.tsx';

interface Camera { id: string; name: string; recordingMode: string; enabled: boolean; retentionDays: number }
interface Segment { id: string; state: string; startedAt: string; endedAt: string | null; bytes: number }

export function CamerasPage(): ReactNode {
  const [cameras, setCameras] = useState<Camera[] | null>(null);
  const [selected, setSelected] = useState<Camera | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api<{ cameras: Camera[] }>('GET', '/api/v1/cameras')
      .then((r) => { if (live) setCameras(r.cameras); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  if (selected !== null) return <PlaybackView camera={selected} onBack={() => setSelected(null)} />;
  return (
    <section aria-labelledby="page-title">
      <PageTitle>Cameras</PageTitle>
      <ErrorMessage error={error} />
      {cameras === null ? (error === null ? <p role="status">Loading…</p> : null) : cameras.length === 0 ? <p>No cameras you may see.</p> : (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Recording</th><th scope="col">Enabled</th><th scope="col">Retention</th><th scope="col">Playback</th></tr></thead>
          <tbody>
            {cameras.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td><td>{c.recordingMode}</td><td>{c.enabled ? 'yes' : 'no'}</td><td>{c.retentionDays} days</td>
                <td><button type="button" onClick={() => setSelected(c)} aria-label={`Play back ${c.name}`}>Play back</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PlaybackView({ camera, onBack }: { camera: Camera; onBack: () => void }): ReactNode {
  const now = new Date();
  const [from, setFrom] = useState(localInputValue(new Date(now.getTime() - 10 * 60_000)));
  const [to, setTo] = useState(localInputValue(now));
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setError(null);
    setSrc(null);
    let range: string;
    try {
      const f = isoFromLocal(from);
      const t = isoFromLocal(to);
      if (Date.parse(t) <= Date.parse(f)) throw new Error('The end must be after the start.');
      range = new URLSearchParams({ from: f, to: t }).toString();
    } catch (err) {
      setError(messageOf(err));
      return;
    }
    const base = `/api/v1/cameras/${encodeURIComponent(camera.id)}`;
    try {
      const found = (await api<{ segments: Segment[] }>('GET', `${base}/recordings?${range}`)).segments;
      setSegments(found);
      if (found.length > 0) setSrc(`${base}/playback?${range}`);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <section aria-labelledby="page-title">
      <PageTitle>Playback: {camera.name}</PageTitle>
      <button type="button" className="secondary" onClick={onBack}>Back to cameras</button>
      <form className="filters" onSubmit={(e) => void submit(e)} aria-label="Time range">
        <Field label="From" type="datetime-local" value={from} onChange={setFrom} required />
        <Field label="To" type="datetime-local" value={to} onChange={setTo} required />
        <div className="field actions"><button type="submit">Find and play</button></div>
      </form>
      <ErrorMessage error={error} />
      {segments === null ? null : segments.length === 0 ? <p role="status">No recordings in this range.</p> : (
        <>
          <p role="status">{segments.length} recording segment(s), {formatTime(segments[0]?.startedAt ?? null)} onwards.</p>
          {src === null ? null : <video key={src} className="player" src={src} controls autoPlay muted playsInline aria-label={`Recording of ${camera.name}`} onError={() => setError('The recording could not be played (it may be missing or fail its integrity check).')} />}
        </>
      )}
    </section>
  );
}
