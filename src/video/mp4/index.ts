// Public surface of the fMP4 layer (design.md §5). Pure parse/serialize: no I/O here.
export type { AccessUnit, AudioTrackConfig, NalFraming, TrackConfig, VideoCodec, VideoFormat, VideoTrackConfig } from './types.ts';
export { FragmentMuxer, type MediaFragment, type MuxerOptions } from './muxer.ts';
export { parseInit, type InitInfo, type TrackInfo } from './init-reader.ts';
export { listFragments, readFragmentSamples, type FragmentInfo, type FragmentSamples, type TrackFragmentInfo } from './fragment-reader.ts';
export { concatSegments, cutTimeRange, openSegment, type ConcatInput, type SegmentView, type TimeRangeCut } from './edit.ts';
export { buildAvcC, parseH264Sps } from './h264.ts';
export { buildHvcC, parseH265Sps } from './h265.ts';
export { aacAudioSpecificConfig, parseAdtsHeader } from './aac.ts';
export { splitAnnexB, splitLengthPrefixed } from './nal.ts';
export { splitElementaryStream, type ElementaryAccessUnit, type ElementaryStream } from './elementary-stream.ts';
