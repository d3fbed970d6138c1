// Track preparation: validate a TrackConfig once, derive what the init segment and the fragment
// writer need (picture size, decoder configuration record, codec string, handler).
import { VigilError } from '../../core/errors.ts';
import { buildAvcC, parseH264Sps } from './h264.ts';
import { buildHvcC, parseH265Sps } from './h265.ts';
import { H264_NAL, H265_NAL, nalType } from './nal.ts';
import type { TrackConfig, VideoCodec, VideoTrackConfig } from './types.ts';

export const MAX_TRACKS = 4;
export const MAX_TIMESCALE = 10_000_000;

export interface PreparedTrack {
  readonly trackId: number;
  readonly config: TrackConfig;
  readonly handler: 'vide' | 'soun';
  readonly timescale: number;
  readonly width: number;
  readonly height: number;
  /** 'avc1' | 'hvc1' | 'mp4a' sample entry type. */
  readonly sampleEntry: string;
  /** avcC / hvcC record, or the AudioSpecificConfig for mp4a. */
  readonly decoderConfig: Uint8Array;
  readonly codecString: string;
}

/** Split a parameter set list by NAL type (H.264: SPS 7, PPS 8; H.265: VPS 32, SPS 33, PPS 34). */
export function groupParameterSets(codec: VideoCodec, sets: readonly Uint8Array[]): Map<number, Uint8Array[]> {
  const groups = new Map<number, Uint8Array[]>();
  for (const s of sets) {
    const type = nalType(codec, s[0] ?? 0);
    const list = groups.get(type) ?? [];
    list.push(s);
    groups.set(type, list);
  }
  return groups;
}

function prepareVideo(config: VideoTrackConfig, trackId: number): PreparedTrack {
  const g = groupParameterSets(config.codec, config.parameterSets);
  if (config.codec === 'h264') {
    const sps = g.get(H264_NAL.SPS) ?? [];
    const decoderConfig = buildAvcC(sps, g.get(H264_NAL.PPS) ?? []);
    const info = parseH264Sps(sps[0] ?? new Uint8Array(0));
    return { trackId, config, handler: 'vide', timescale: config.timescale, width: info.width, height: info.height, sampleEntry: 'avc1', decoderConfig, codecString: info.codecString };
  }
  const sps = g.get(H265_NAL.SPS) ?? [];
  const decoderConfig = buildHvcC(g.get(H265_NAL.VPS) ?? [], sps, g.get(H265_NAL.PPS) ?? []);
  const info = parseH265Sps(sps[0] ?? new Uint8Array(0));
  return { trackId, config, handler: 'vide', timescale: config.timescale, width: info.width, height: info.height, sampleEntry: 'hvc1', decoderConfig, codecString: info.codecString };
}

function checkTimescale(t: number): void {
  if (!Number.isInteger(t) || t < 1 || t > MAX_TIMESCALE) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'timescale out of range', { details: { timescale: t } });
}

export function prepareTracks(configs: readonly TrackConfig[]): PreparedTrack[] {
  if (configs.length === 0 || configs.length > MAX_TRACKS) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', `need 1..${MAX_TRACKS} tracks`);
  return configs.map((config, i) => {
    if (config.kind === 'video') {
      checkTimescale(config.timescale);
      return prepareVideo(config, i + 1);
    }
    checkTimescale(config.sampleRate);
    const asc = config.audioSpecificConfig;
    if (asc.length < 2 || asc.length > 64) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'AudioSpecificConfig size out of range');
    if (!Number.isInteger(config.channels) || config.channels < 1 || config.channels > 8) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'channel count out of range');
    const objectType = (asc[0] ?? 0) >>> 3;
    return { trackId: i + 1, config, handler: 'soun', timescale: config.sampleRate, width: 0, height: 0, sampleEntry: 'mp4a', decoderConfig: asc, codecString: `mp4a.40.${String(objectType)}` };
  });
}
