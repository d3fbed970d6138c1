// One encoded video source fanned out to many RTSP viewers (the software camera's stream).
// Each access unit is packetized once (RFC 6184 / RFC 7798) into buffers shared by all viewers.
// Backpressure (design §5): a viewer's queue is its socket's unsent bytes, bounded by
// maxQueuedBytes; a viewer over it skips to the next keyframe, and one stuck longer than
// maxStallMs is disconnected. A new viewer starts at the next keyframe.
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import { createH264Packetizer, H264_NAL, isH264KeyframeNal } from '../rtp/h264.ts';
import { createH265Packetizer, H265_NAL, h265NalType, isH265KeyframeNal } from '../rtp/h265.ts';
import type { RtpPacketizer } from '../rtp/packetizer.ts';
import { writeInterleavedHeader } from './message.ts';
import type { SdpMediaDescription } from './sdp.ts';

export interface LiveViewer {
  /** Interleaved RTP channel of this viewer. */
  readonly channel: number;
  /** Unsent bytes queued for this viewer. */
  queuedBytes(): number;
  /** Sends an interleaved frame; `frame[0..4]` is a `$` header for channel 0, `frame[4..]` RTP. */
  send(frame: Buffer): void;
  disconnect(reason: VigilError): void;
}

interface ViewerState {
  viewer: LiveViewer;
  waitingForKeyframe: boolean;
  stalledSince: number;
}

export interface LiveVideoSourceOptions {
  codec: 'H264' | 'H265';
  payloadType?: number;
  mtu?: number;
  maxViewers?: number;
  maxQueuedBytes?: number;
  maxStallMs?: number;
  clock?: Clock;
}

const MAX_PARAMETER_SET_BYTES = 4096;

export class LiveVideoSource {
  readonly codec: 'H264' | 'H265';
  readonly payloadType: number;
  readonly ssrc: number;
  readonly stats = { accessUnits: 0, skippedForViewers: 0, disconnectedViewers: 0 };
  private readonly packetizer: RtpPacketizer;
  private readonly viewers = new Set<ViewerState>();
  private readonly maxViewers: number;
  private readonly maxQueuedBytes: number;
  private readonly maxStallMs: number;
  private readonly clock: Clock;
  private readonly packets: Buffer[] = [];
  /** Latest in-band parameter sets, by NAL type, for the SDP (RFC 6184 §8.1, RFC 7798 §7.1). */
  private readonly parameterSets = new Map<number, Buffer>();

  constructor(options: LiveVideoSourceOptions) {
    this.codec = options.codec;
    this.payloadType = options.payloadType ?? 96;
    this.ssrc = randomBytes(4).readUInt32BE(0);
    this.maxViewers = options.maxViewers ?? 16;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
    this.maxStallMs = options.maxStallMs ?? 5000;
    this.clock = options.clock ?? systemClock;
    const packetizerOptions = { payloadType: this.payloadType, ssrc: this.ssrc, initialSequence: randomBytes(2).readUInt16BE(0), headroom: 4, mtu: options.mtu ?? 1400 };
    this.packetizer = options.codec === 'H264' ? createH264Packetizer(packetizerOptions) : createH265Packetizer(packetizerOptions);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Adds a viewer (it gets data from the next keyframe on); returns its removal function. */
  addViewer(viewer: LiveViewer): () => void {
    if (this.viewers.size >= this.maxViewers) throw new VigilError('VIGIL_RATE_LIMITED', 'too many viewers of this stream');
    const state: ViewerState = { viewer, waitingForKeyframe: true, stalledSince: -1 };
    this.viewers.add(state);
    return () => this.viewers.delete(state);
  }

  /** One access unit: its NAL units (no start codes) and its 90 kHz timestamp. */
  pushAccessUnit(nals: readonly Uint8Array[], timestamp90k: number): void {
    let keyframe = false;
    for (const nal of nals) {
      const type = this.codec === 'H264' ? (nal[0] ?? 0) & 0x1f : h265NalType(nal[0] ?? 0);
      if (this.codec === 'H264' ? isH264KeyframeNal(type) : isH265KeyframeNal(type)) keyframe = true;
      this.rememberParameterSet(type, nal);
    }
    this.stats.accessUnits += 1;
    if (this.viewers.size === 0) return;
    const packets = this.packets;
    packets.length = 0;
    this.packetizer.packetize(nals, timestamp90k >>> 0, (p) => {
      writeInterleavedHeader(p, 0, 0, p.length - 4);
      packets.push(p);
    });
    const now = this.clock.now();
    for (const state of [...this.viewers]) this.deliver(state, keyframe, now);
    packets.length = 0;
  }

  private deliver(state: ViewerState, keyframe: boolean, now: number): void {
    const viewer = state.viewer;
    if (viewer.queuedBytes() > this.maxQueuedBytes) {
      if (state.stalledSince < 0) state.stalledSince = now;
      else if (now - state.stalledSince > this.maxStallMs) {
        this.viewers.delete(state);
        this.stats.disconnectedViewers += 1;
        viewer.disconnect(new VigilError('VIGIL_RTSP_TIMEOUT', 'the viewer could not keep up with the stream'));
        return;
      }
      state.waitingForKeyframe = true;
      this.stats.skippedForViewers += 1;
      return;
    }
    state.stalledSince = -1;
    if (state.waitingForKeyframe && !keyframe) return;
    state.waitingForKeyframe = false;
    for (const p of this.packets) viewer.send(p);
  }

  private rememberParameterSet(type: number, nal: Uint8Array): void {
    const isParameterSet = this.codec === 'H264'
      ? type === H264_NAL.SPS || type === H264_NAL.PPS
      : type === H265_NAL.VPS || type === H265_NAL.SPS || type === H265_NAL.PPS;
    if (!isParameterSet || nal.length > MAX_PARAMETER_SET_BYTES) return;
    const known = this.parameterSets.get(type);
    if (known !== undefined && known.equals(nal)) return;
    this.parameterSets.set(type, Buffer.from(nal));
  }

  /** The SDP media description of this source (control URL relative to the stream). */
  sdpMedia(control: string): SdpMediaDescription {
    const b64 = (type: number): string | undefined => this.parameterSets.get(type)?.toString('base64');
    const fmtp: Array<[string, string]> = [];
    if (this.codec === 'H264') {
      fmtp.push(['packetization-mode', '1']);
      const sps = this.parameterSets.get(H264_NAL.SPS);
      const pps = b64(H264_NAL.PPS);
      if (sps !== undefined && sps.length >= 4) fmtp.push(['profile-level-id', sps.subarray(1, 4).toString('hex')]);
      if (sps !== undefined && pps !== undefined) fmtp.push(['sprop-parameter-sets', `${sps.toString('base64')},${pps}`]);
    } else {
      for (const [name, type] of [['sprop-vps', H265_NAL.VPS], ['sprop-sps', H265_NAL.SPS], ['sprop-pps', H265_NAL.PPS]] as const) {
        const v = b64(type);
        if (v !== undefined) fmtp.push([name, v]);
      }
    }
    return { type: 'video', payloadType: this.payloadType, encoding: this.codec, clockRate: 90_000, fmtp, control };
  }
}
