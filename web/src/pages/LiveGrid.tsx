// The live wall (issue #8): 1, 4, 9 or 16 cameras at once, each tile its own live stream (the
// same MSE over WSS as the single view, authorised and audited per camera by the server); a
// tile opens that camera full size. Only cameras the user may see are listed by the API.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api, messageOf } from '../api.ts';
import { ErrorMessage, PageTitle } from '../ui.tsx';
import { LiveView, useLiveStream } from './LiveView.tsx';

interface Camera { id: string; name: string; enabled: boolean }
const LAYOUTS = [1, 4, 9, 16] as const;
type Layout = (typeof LAYOUTS)[number];
const LAYOUT_KEY = 'vigil.live.layout';

function savedLayout(): Layout {
  const n = Number(window.localStorage.getItem(LAYOUT_KEY));
  return (LAYOUTS as readonly number[]).includes(n) ? (n as Layout) : 4;
}

function LiveTile({ camera, onOpen }: { camera: Camera; onOpen: () => void }): ReactNode {
  const video = useRef<HTMLVideoElement>(null);
  const { status } = useLiveStream(camera.id, video);
  return (
    <figure className="tile">
      <video ref={video} muted playsInline autoPlay aria-label={`Live tile of ${camera.name}`} />
      <figcaption>
        <button type="button" className="link" onClick={onOpen} aria-label={`Open ${camera.name}`}>{camera.name}</button>
        <span className="tile-status">{status}</span>
      </figcaption>
    </figure>
  );
}

export function LiveGridPage(): ReactNode {
  const [cameras, setCameras] = useState<Camera[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [layout, setLayout] = useState<Layout>(savedLayout);
  const [focus, setFocus] = useState<Camera | null>(null);

  useEffect(() => {
    let live = true;
    api<{ cameras: Camera[] }>('GET', '/api/v1/cameras')
      .then((r) => { if (live) setCameras(r.cameras.filter((c) => c.enabled)); })
      .catch((err: unknown) => { if (live) setError(messageOf(err)); });
    return () => { live = false; };
  }, []);

  if (focus !== null) return <LiveView camera={focus} onBack={() => setFocus(null)} backLabel="Back to the live wall" />;
  const choose = (n: Layout): void => {
    window.localStorage.setItem(LAYOUT_KEY, String(n));
    setLayout(n);
  };
  const shown = (cameras ?? []).slice(0, layout);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>Live</PageTitle>
      <ErrorMessage error={error} />
      <div role="group" aria-label="Layout" className="layouts">
        {LAYOUTS.map((n) => <button key={n} type="button" className={n === layout ? undefined : 'secondary'} aria-pressed={n === layout} onClick={() => choose(n)}>{n}</button>)}
      </div>
      {cameras === null ? (error === null ? <p role="status">Loading…</p> : null) : cameras.length === 0 ? <p>No cameras you may see are recording.</p> : (
        <div className={`grid grid-${layout}`} data-testid="live-grid">
          {shown.map((c) => <LiveTile key={c.id} camera={c} onOpen={() => setFocus(c)} />)}
        </div>
      )}
      {cameras !== null && cameras.length > layout ? <p>{cameras.length - layout} more camera(s): choose a larger layout.</p> : null}
    </section>
  );
}
