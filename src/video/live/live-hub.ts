// Live fan-out (design.md §5; issue #8): the recorder publishes each camera's init segment and
// fragments as it makes them; every viewer gets the init segment and the latest keyframe fragment
// at once (no wait for the next GOP), then each new fragment. Queues are bounded per viewer: a
// viewer whose socket has more than MAX_BUFFERED_BYTES unsent misses fragments and resumes at the
// next keyframe, so a slow viewer never holds memory or slows the recorder or other viewers.

export interface LiveFragment {
  bytes: Uint8Array;
  keyframe: boolean;
}

/** What a viewer connection offers the hub (a WebSocket, or a test double). */
export interface LiveSink {
  /** Bytes accepted but not yet sent. */
  readonly bufferedBytes: number;
  sendStart(start: { codec: string }, init: Uint8Array): void;
  sendFragment(bytes: Uint8Array): void;
  /** The stream ended (camera stopped or changed codec); the viewer may reconnect. */
  end(reason: string): void;
}

export interface LiveViewerStats {
  sentFragments: number;
  skippedFragments: number;
  sentBytes: number;
}

/** More than this unsent to a viewer and it skips to the next keyframe. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Viewers of one camera at most: each costs a socket and its buffer. */
export const MAX_VIEWERS_PER_CAMERA = 32;

interface Viewer {
  sink: LiveSink;
  started: boolean;
  waitingForKeyframe: boolean;
  stats: LiveViewerStats;
}

interface Channel {
  codec: string | null;
  init: Uint8Array | null;
  /** The latest fragment that starts with a keyframe: where a new viewer begins. */
  lastKeyframe: Uint8Array | null;
  viewers: Set<Viewer>;
}

export class LiveHub {
  readonly #channels = new Map<string, Channel>();

  #channel(cameraId: string): Channel {
    let c = this.#channels.get(cameraId);
    if (c === undefined) {
      c = { codec: null, init: null, lastKeyframe: null, viewers: new Set() };
      this.#channels.set(cameraId, c);
    }
    return c;
  }

  /**
   * A new stream session (first keyframe after a (re)connect). `codec` is the MSE codec string,
   * or null when browsers cannot play it through MSE (then viewers are told why).
   */
  publishInit(cameraId: string, init: Uint8Array, codec: string | null): void {
    const c = this.#channel(cameraId);
    const changed = c.codec !== codec || (c.init !== null && !sameBytes(c.init, init));
    Object.assign(c, { codec, init, lastKeyframe: null });
    for (const v of c.viewers) {
      if (codec === null) this.#drop(c, v, 'the camera now sends video that browsers cannot play live (H.264 only)');
      else if (changed && v.started) this.#drop(c, v, 'the stream changed; reconnect');
      else v.waitingForKeyframe = true;
    }
  }

  publishFragment(cameraId: string, fragment: LiveFragment): void {
    const c = this.#channels.get(cameraId);
    if (c === undefined || c.init === null || c.codec === null) return;
    if (fragment.keyframe) c.lastKeyframe = fragment.bytes;
    for (const v of c.viewers) {
      if (!v.started) {
        if (!fragment.keyframe) continue;
        v.sink.sendStart({ codec: c.codec }, c.init);
        v.started = true;
        v.waitingForKeyframe = false;
      }
      if (v.sink.bufferedBytes > MAX_BUFFERED_BYTES) v.waitingForKeyframe = true;
      if (v.waitingForKeyframe && !(fragment.keyframe && v.sink.bufferedBytes <= MAX_BUFFERED_BYTES / 2)) {
        v.stats.skippedFragments++;
        continue;
      }
      v.waitingForKeyframe = false;
      v.sink.sendFragment(fragment.bytes);
      v.stats.sentFragments++;
      v.stats.sentBytes += fragment.bytes.length;
    }
  }

  /** The camera stopped: viewers are told; a later session starts a new channel. */
  end(cameraId: string, reason: string): void {
    const c = this.#channels.get(cameraId);
    if (c === undefined) return;
    for (const v of c.viewers) v.sink.end(reason);
    this.#channels.delete(cameraId);
  }

  /**
   * Adds a viewer: it starts at once with the init segment and the latest keyframe fragment when
   * the camera is streaming, else at the next keyframe. Returns the stats and an unsubscribe.
   */
  subscribe(cameraId: string, sink: LiveSink): { stats: LiveViewerStats; close: () => void } | { refused: string } {
    const c = this.#channel(cameraId);
    if (c.viewers.size >= MAX_VIEWERS_PER_CAMERA) return { refused: `at most ${MAX_VIEWERS_PER_CAMERA} live viewers per camera` };
    if (c.init !== null && c.codec === null) return { refused: 'this camera sends video that browsers cannot play live (H.264 only)' };
    const viewer: Viewer = { sink, started: false, waitingForKeyframe: false, stats: { sentFragments: 0, skippedFragments: 0, sentBytes: 0 } };
    c.viewers.add(viewer);
    if (c.init !== null && c.codec !== null && c.lastKeyframe !== null) {
      sink.sendStart({ codec: c.codec }, c.init);
      sink.sendFragment(c.lastKeyframe);
      viewer.started = true;
      viewer.stats.sentFragments++;
      viewer.stats.sentBytes += c.lastKeyframe.length;
    }
    return { stats: viewer.stats, close: () => { c.viewers.delete(viewer); } };
  }

  viewers(cameraId: string): number {
    return this.#channels.get(cameraId)?.viewers.size ?? 0;
  }

  #drop(c: Channel, v: Viewer, reason: string): void {
    c.viewers.delete(v);
    v.sink.end(reason);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The MSE codec string of an H.264 SPS NAL unit (RFC 6381 §3.3: avc1.PPCCLL). */
export function avcCodecString(sps: Uint8Array): string {
  const hex = (n: number | undefined): string => (n ?? 0).toString(16).padStart(2, '0');
  return `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`;
}
