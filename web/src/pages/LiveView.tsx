// Live view of one camera (issue #8): fMP4 fragments over a secure WebSocket into the browser's
// MediaSource. The server starts the stream at the latest keyframe; this page keeps at most a
// short buffer, stays near the live edge, and shows why a stream ended. Every view is audited by
// the server (NVR-5.2.7.1a).
import { useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import { PageTitle } from '../ui.tsx';

/** Behind the live edge by more than this, playback jumps forward. */
const MAX_LATENCY_S = 3;
/** Buffered video kept behind the playhead. */
const KEEP_BEHIND_S = 10;
/** Fragments waiting for the SourceBuffer at most; beyond it the oldest are dropped. */
const MAX_QUEUE = 30;

type Message = { type: 'start'; codec: string } | { type: 'end'; reason: string };

/** Plays a camera's live stream in the given <video> while mounted; returns what to show about it. */
export function useLiveStream(cameraId: string, video: RefObject<HTMLVideoElement | null>): { status: string; fragments: number } {
  const [status, setStatus] = useState('Connecting…');
  const [fragments, setFragments] = useState(0);

  useEffect(() => {
    const element = video.current;
    if (element === null) return undefined;
    const socket = new WebSocket(`wss://${window.location.host}/api/v1/cameras/${encodeURIComponent(cameraId)}/live`);
    socket.binaryType = 'arraybuffer';
    let source: MediaSource | null = null;
    let buffer: SourceBuffer | null = null;
    let objectUrl: string | null = null;
    let init: ArrayBuffer | null = null;
    let awaitingInit = false;
    const queue: ArrayBuffer[] = [];
    let received = 0;

    const pump = (): void => {
      if (buffer === null || buffer.updating) return;
      const ranges = buffer.buffered;
      if (ranges.length > 0) {
        const end = ranges.end(ranges.length - 1);
        if (end - element.currentTime > MAX_LATENCY_S) element.currentTime = Math.max(0, end - 0.5);
        if (element.currentTime - ranges.start(0) > KEEP_BEHIND_S * 2) {
          buffer.remove(0, element.currentTime - KEEP_BEHIND_S);
          return;
        }
      }
      const next = init ?? queue.shift();
      if (next === undefined) return;
      init = null;
      buffer.appendBuffer(next);
    };

    const start = (codec: string): void => {
      const type = `video/mp4; codecs="${codec}"`;
      if (!MediaSource.isTypeSupported(type)) {
        setStatus(`This browser cannot play ${codec} live.`);
        socket.close();
        return;
      }
      if (objectUrl !== null) URL.revokeObjectURL(objectUrl);
      queue.length = 0;
      const ms = new MediaSource();
      source = ms;
      buffer = null;
      objectUrl = URL.createObjectURL(ms);
      element.src = objectUrl;
      ms.addEventListener('sourceopen', () => {
        if (source !== ms) return;
        const sb = ms.addSourceBuffer(type);
        sb.mode = 'sequence';
        sb.addEventListener('updateend', pump);
        buffer = sb;
        pump();
        void element.play().catch(() => setStatus('Live — press play to start.'));
      }, { once: true });
    };

    socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data) as Message;
        if (message.type === 'start') {
          awaitingInit = true;
          start(message.codec);
        } else {
          setStatus(`The stream ended: ${message.reason}`);
        }
        return;
      }
      if (awaitingInit) {
        init = event.data;
        awaitingInit = false;
      } else {
        queue.push(event.data);
        if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
        received++;
        setFragments(received);
        setStatus('Live');
      }
      pump();
    });
    socket.addEventListener('close', (event) => {
      if (event.code !== 1000) setStatus(event.code === 1006 ? 'Not connected: not allowed, or the connection failed.' : `Disconnected (${event.reason || event.code}).`);
    });
    return () => {
      socket.close();
      element.removeAttribute('src');
      if (objectUrl !== null) URL.revokeObjectURL(objectUrl);
    };
  }, [cameraId, video]);
  return { status, fragments };
}

export function LiveView({ camera, onBack, backLabel = 'Back to cameras' }: { camera: { id: string; name: string }; onBack: () => void; backLabel?: string }): ReactNode {
  const video = useRef<HTMLVideoElement>(null);
  const { status, fragments } = useLiveStream(camera.id, video);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>Live: {camera.name}</PageTitle>
      <button type="button" className="secondary" onClick={onBack}>{backLabel}</button>
      <p role="status" data-testid="live-status">{status}{fragments > 0 ? ` · ${fragments} fragments` : ''}</p>
      <video ref={video} className="player" muted playsInline autoPlay controls aria-label={`Live video of ${camera.name}`} />
    </section>
  );
}
