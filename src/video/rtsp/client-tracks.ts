// Track selection from a DESCRIBE answer (RFC 2326 App. C) and the per-track depacketizer.
import { VigilError } from '../../core/errors.ts';
import { AacDepacketizer } from '../rtp/aac.ts';
import { createH264Depacketizer } from '../rtp/h264.ts';
import { createH265Depacketizer } from '../rtp/h265.ts';
import type { VideoDepacketizer } from '../rtp/access-unit.ts';
import { parseParameterSets, resolveControl, type SessionDescription } from './sdp.ts';

export type RtspCodec = 'H264' | 'H265' | 'AAC';

export interface RtspTrack {
  readonly index: number;
  readonly media: 'video' | 'audio';
  readonly codec: RtspCodec;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly control: string;
  readonly fmtp: ReadonlyMap<string, string>;
  /** Out-of-band parameter sets from the SDP: [SPS, PPS] (H.264) or [VPS, SPS, PPS] (H.265). */
  readonly parameterSets: readonly Buffer[];
  /** Interleaved channel of RTP (RTCP is channel + 1), set by SETUP. */
  channel: number;
}

export interface TrackReceiver {
  video: VideoDepacketizer | undefined;
  audio: AacDepacketizer | undefined;
}

function intParam(fmtp: ReadonlyMap<string, string>, name: string, fallback: number): number {
  const v = fmtp.get(name);
  if (v === undefined) return fallback;
  if (!/^\d{1,6}$/.test(v)) throw new VigilError('VIGIL_SDP_MALFORMED', `fmtp ${name} is not a number`);
  return Number(v);
}

/** The tracks this client can record, in SDP order, limited to the wanted media types. */
export function selectTracks(sdp: SessionDescription, base: string, wanted: ReadonlyArray<'video' | 'audio'>): RtspTrack[] {
  const tracks: RtspTrack[] = [];
  for (const m of sdp.media) {
    if ((m.type !== 'video' && m.type !== 'audio') || !wanted.includes(m.type)) continue;
    if (!m.protocol.startsWith('RTP/AVP')) continue;
    const pt = m.formats[0];
    if (pt === undefined) continue;
    const map = m.rtpmap.get(pt);
    const fmtp = m.fmtp.get(pt) ?? new Map<string, string>();
    const encoding = map?.encoding;
    let codec: RtspCodec | undefined;
    let parameterSets: Buffer[] = [];
    if (m.type === 'video' && encoding === 'H264') {
      codec = 'H264';
      parameterSets = parseParameterSets(fmtp.get('sprop-parameter-sets'));
    } else if (m.type === 'video' && encoding === 'H265') {
      codec = 'H265';
      parameterSets = [...parseParameterSets(fmtp.get('sprop-vps')), ...parseParameterSets(fmtp.get('sprop-sps')), ...parseParameterSets(fmtp.get('sprop-pps'))];
    } else if (m.type === 'audio' && encoding === 'MPEG4-GENERIC' && (fmtp.get('mode') ?? '').toLowerCase() === 'aac-hbr') {
      codec = 'AAC';
    }
    if (codec === undefined || map === undefined) continue;
    tracks.push({ index: tracks.length, media: m.type, codec, payloadType: pt, clockRate: map.clockRate, control: resolveControl(base, m.control), fmtp, parameterSets, channel: tracks.length * 2 });
  }
  if (wanted.includes('video') && !tracks.some((t) => t.media === 'video')) {
    throw new VigilError('VIGIL_RTSP_UNSUPPORTED', 'the stream has no H.264 or H.265 video track');
  }
  return tracks;
}

export function createReceiver(track: RtspTrack, maxAccessUnitBytes: number | undefined): TrackReceiver {
  const options = maxAccessUnitBytes === undefined ? {} : { maxAccessUnitBytes };
  if (track.codec === 'H264') return { video: createH264Depacketizer(options), audio: undefined };
  if (track.codec === 'H265') return { video: createH265Depacketizer({ ...options, spropMaxDonDiff: intParam(track.fmtp, 'sprop-max-don-diff', 0) }), audio: undefined };
  return {
    video: undefined,
    audio: new AacDepacketizer({
      sizeLength: intParam(track.fmtp, 'sizelength', 13),
      indexLength: intParam(track.fmtp, 'indexlength', 3),
      indexDeltaLength: intParam(track.fmtp, 'indexdeltalength', 3),
      frameDuration: intParam(track.fmtp, 'constantduration', 1024),
    }),
  };
}
