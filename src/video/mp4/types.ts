// Shared types of the fMP4 layer: what the recorder hands in, what readers hand back.

export type VideoCodec = 'h264' | 'h265';

/**
 * One coded picture (video) or one raw AAC frame (audio). Times are in the track's timescale.
 * `data` is either one buffer — Annex-B or 4-byte length-prefixed per the track's `framing` —
 * or a list of bare NAL units (what an RTP depacketizer produces). For audio, `data` is the raw
 * AAC frame (no ADTS header) and `keyframe` is ignored (every AAC frame is a sync sample).
 * The muxer keeps a reference to `data` (no copy) until the fragment holding it is returned by
 * `push` or `flush`: the caller must not overwrite that memory before then.
 */
export interface AccessUnit {
  readonly data: Uint8Array | readonly Uint8Array[];
  /** Decode timestamp (non-decreasing within a track). */
  readonly dts: number;
  /** Composition (presentation) offset: pts − dts; may be negative. */
  readonly ctsOffset: number;
  /** Duration until the next access unit's dts; > 0. */
  readonly duration: number;
  readonly keyframe: boolean;
}

export type NalFraming = 'annexb' | 'length-prefixed';

export interface VideoTrackConfig {
  readonly kind: 'video';
  readonly codec: VideoCodec;
  /** Ticks per second; 90000 matches the RTP video clock. */
  readonly timescale: number;
  /** H.264: [SPS, PPS...]; H.265: [VPS, SPS, PPS...] — bare NAL units, no start codes. */
  readonly parameterSets: readonly Uint8Array[];
  /** Framing of `AccessUnit.data` when it is a single buffer; default 'annexb'. */
  readonly framing?: NalFraming;
}

export interface AudioTrackConfig {
  readonly kind: 'audio';
  readonly codec: 'aac';
  /** Sample rate; also the track timescale. */
  readonly sampleRate: number;
  readonly channels: number;
  /** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), 2+ bytes. */
  readonly audioSpecificConfig: Uint8Array;
}

export type TrackConfig = VideoTrackConfig | AudioTrackConfig;

/** What the SPS tells us, enough for tkhd/avc1/hvc1 and an RFC 6381 codec string. */
export interface VideoFormat {
  readonly codec: VideoCodec;
  readonly width: number;
  readonly height: number;
  readonly profile: number;
  readonly level: number;
  readonly chromaFormat: number;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  /** RFC 6381 `codecs` parameter, e.g. "avc1.640028" or "hvc1.1.6.L120.90". */
  readonly codecString: string;
}
