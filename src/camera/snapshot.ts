// Snapshots of the software camera (ONVIF GetSnapshotUri, issue #9): a JPEG decoded from the
// latest keyframe of the encoded stream itself, so the privacy masks burnt in before encoding
// hold for snapshots too (CAM-5.5.1.2) — no second path to raw pixels exists. Decoding is one
// bounded ffmpeg run per keyframe: callers asking for the same keyframe share its result, one
// decode runs at a time, and input and output sizes are capped.
import { execFile } from 'node:child_process';
import type { AuditSink } from '../audit/types.ts';
import { VigilError } from '../core/errors.ts';
import { H264_NAL, isH264KeyframeNal } from '../video/rtp/h264.ts';
import { claimedDigestUsername, type RtspAuthenticator } from '../video/rtsp/digest-server.ts';
import type { RtspAuthResult } from '../video/rtsp/server-connection.ts';

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** A keyframe larger than this is not kept (a 4K IDR at a high bit rate is well under it). */
const MAX_KEYFRAME_BYTES = 8 * 1024 * 1024;
const MAX_PARAMETER_SET_BYTES = 4096;
const MAX_JPEG_BYTES = 8 * 1024 * 1024;
const DECODE_TIMEOUT_MS = 10_000;

export interface SnapshotSourceOptions {
  ffmpegPath?: string;
  /** JPEG quality as ffmpeg's mjpeg -q:v (2 best … 31 worst). */
  quality?: number;
}

interface Decoded {
  keyframe: number;
  jpeg: Promise<Buffer>;
  settled: boolean;
}

function view(nal: Uint8Array): Buffer {
  return Buffer.from(nal.buffer, nal.byteOffset, nal.byteLength);
}

export class SnapshotSource {
  readonly #ffmpeg: string;
  readonly #quality: number;
  readonly #parameterSets = new Map<number, Buffer>();
  /** The latest keyframe as Annex B pieces (views on the encoder's buffers) and its size. */
  #keyframe: { parts: Buffer[]; size: number } | undefined;
  #keyframeSeq = 0;
  #decoded: Decoded | undefined;

  constructor(options: SnapshotSourceOptions = {}) {
    this.#ffmpeg = options.ffmpegPath ?? 'ffmpeg';
    this.#quality = options.quality ?? 4;
  }

  /** Every access unit of the stream (H.264 NAL units without start codes). */
  observe(nals: readonly Uint8Array[]): void {
    let keyframe = false;
    for (const nal of nals) {
      const type = (nal[0] ?? 0) & 0x1f;
      if (type === H264_NAL.SPS || type === H264_NAL.PPS) {
        if (nal.length <= MAX_PARAMETER_SET_BYTES) this.#parameterSets.set(type, view(nal));
      } else if (isH264KeyframeNal(type)) keyframe = true;
    }
    if (!keyframe) return;
    const sps = this.#parameterSets.get(H264_NAL.SPS);
    const pps = this.#parameterSets.get(H264_NAL.PPS);
    if (sps === undefined || pps === undefined) return;
    const parts: Buffer[] = [START_CODE, sps, START_CODE, pps];
    let size = 8 + sps.length + pps.length;
    for (const nal of nals) {
      const type = (nal[0] ?? 0) & 0x1f;
      if (type === H264_NAL.SPS || type === H264_NAL.PPS || type === H264_NAL.AUD) continue;
      size += 4 + nal.length;
      if (size > MAX_KEYFRAME_BYTES) return;
      parts.push(START_CODE, view(nal));
    }
    // Kept as views, not copied: the encoder's buffers are never written again (FfmpegSource),
    // so the per-keyframe cost stays off the stream until someone asks for a snapshot.
    this.#keyframe = { parts, size };
    this.#keyframeSeq += 1;
  }

  /** The latest keyframe as a JPEG; decodes it at most once. */
  jpeg(): Promise<Buffer> {
    const keyframe = this.#keyframe;
    if (keyframe === undefined) return Promise.reject(new VigilError('VIGIL_CAMERA_SNAPSHOT_UNAVAILABLE', 'the camera has not produced a picture yet; try again in a moment'));
    const current = this.#decoded;
    // One decode at a time: a newer keyframe waits for the running decode to settle.
    if (current !== undefined && (current.keyframe === this.#keyframeSeq || !current.settled)) return current.jpeg;
    const decoded: Decoded = { keyframe: this.#keyframeSeq, jpeg: this.#decode(Buffer.concat(keyframe.parts, keyframe.size)), settled: false };
    this.#decoded = decoded;
    decoded.jpeg.then(
      () => { decoded.settled = true; },
      () => {
        decoded.settled = true;
        // A failed decode is not cached: the next call tries again.
        if (this.#decoded === decoded) this.#decoded = undefined;
      },
    );
    return decoded.jpeg;
  }

  #decode(keyframe: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.#ffmpeg,
        ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'h264', '-i', 'pipe:0', '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', String(this.#quality), '-f', 'image2pipe', 'pipe:1'],
        { encoding: 'buffer', timeout: DECODE_TIMEOUT_MS, maxBuffer: MAX_JPEG_BYTES },
        (err, stdout) => {
          if (err !== null || stdout.length < 4 || stdout[0] !== 0xff || stdout[1] !== 0xd8) {
            reject(new VigilError('VIGIL_CAMERA_SNAPSHOT_UNAVAILABLE', 'the snapshot could not be made; try again in a moment', { cause: err ?? undefined }));
          } else resolve(stdout);
        },
      );
      child.stdin?.on('error', () => undefined); // the child may exit before reading everything
      child.stdin?.end(keyframe);
    });
  }
}

export interface SnapshotRequest {
  /** The request target as sent (Digest binds the response to it). */
  uri: string;
  authorization: string | undefined;
  secure: boolean;
  sourceIp: string;
}

export type SnapshotAnswer =
  | { status: 200; jpeg: Buffer }
  | { status: 401; challenges: string[] };

export interface SnapshotEndpointOptions {
  /** HTTP Digest (RFC 7616) with the camera's RTSP accounts: the same verifiers, realm and lockout. */
  authenticator: RtspAuthenticator;
  onAuthResult(result: RtspAuthResult): void;
  audit: AuditSink;
  source(): SnapshotSource | undefined;
}

/**
 * The snapshot URI ONVIF GetSnapshotUri hands out (CAM-T-auth-1): HTTP Digest with Vigil accounts
 * holding camera.view, like the stream; never anonymous, Basic only where the stream allows it.
 * Every picture given out is audited with who took it.
 */
export class SnapshotEndpoint {
  readonly #o: SnapshotEndpointOptions;

  constructor(options: SnapshotEndpointOptions) {
    this.#o = options;
  }

  async handle(request: SnapshotRequest): Promise<SnapshotAnswer> {
    const { authenticator } = this.#o;
    const outcome = await authenticator.authenticate('GET', request.uri, request.authorization, request.secure);
    if (request.authorization !== undefined && (outcome.ok || !outcome.stale)) {
      this.#o.onAuthResult({ username: outcome.ok ? outcome.username : claimedDigestUsername(request.authorization), ok: outcome.ok, remoteAddress: request.sourceIp });
    }
    if (!outcome.ok) return { status: 401, challenges: authenticator.challenges(request.secure, outcome.stale) };
    const source = this.#o.source();
    if (source === undefined) throw new VigilError('VIGIL_CAMERA_SNAPSHOT_UNAVAILABLE', 'the camera is not running');
    const jpeg = await source.jpeg();
    this.#o.audit.record({ category: 'video', action: 'camera.snapshot', actor: `user:${outcome.username.toLowerCase()}`, source: request.sourceIp, target: 'camera:self', outcome: 'success', details: { bytes: jpeg.length } });
    return { status: 200, jpeg };
  }
}
