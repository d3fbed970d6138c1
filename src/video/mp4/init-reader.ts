// Reading an initialization segment: tracks, timescales, sample entries and trex defaults
// (ISO/IEC 14496-12 §8.3–§8.5, §8.8.3). Works on files from other muxers too (ffmpeg, cameras).
import { VigilError } from '../../core/errors.ts';
import { copyOf } from './byte-writer.ts';
import { boxNode, child, children, fullBoxHeader, malformed, readBox, u16, u32, BoxBudget, type Box, type BoxNode } from './box-reader.ts';

export interface TrackDefaults {
  readonly sampleDescriptionIndex: number;
  readonly sampleDuration: number;
  readonly sampleSize: number;
  readonly sampleFlags: number;
}

export interface TrackInfo {
  readonly trackId: number;
  readonly handler: string;
  readonly timescale: number;
  /** Sample entry type: 'avc1', 'hvc1', 'hev1', 'mp4a'... */
  readonly sampleEntry: string;
  readonly width: number;
  readonly height: number;
  /** Payload of avcC / hvcC / esds, if present. */
  readonly decoderConfig: Uint8Array | undefined;
  readonly defaults: TrackDefaults;
}

export interface InitInfo {
  /** Byte range of ftyp + moov (the init segment) in the parsed buffer. */
  readonly start: number;
  readonly end: number;
  readonly majorBrand: string;
  readonly tracks: readonly TrackInfo[];
}

const NO_DEFAULTS: TrackDefaults = { sampleDescriptionIndex: 1, sampleDuration: 0, sampleSize: 0, sampleFlags: 0 };
const VISUAL_ENTRY_HEADER = 78;
const AUDIO_ENTRY_HEADER = 28;

function mediaTimescale(b: Uint8Array, mdhd: Box): number {
  const [version] = fullBoxHeader(b, mdhd, 20);
  const at = mdhd.payload + 4 + (version === 1 ? 16 : 8);
  if (version === 1 && mdhd.end - mdhd.payload < 4 + 28) throw malformed('mdhd box too short');
  const timescale = u32(b, at);
  if (timescale === 0) throw malformed('mdhd timescale is zero');
  return timescale;
}

interface SampleEntryInfo { type: string; width: number; height: number; config: Uint8Array | undefined }

/** First entry of stsd (§8.5.2): visual (§12.1.3) or audio (§12.2.3) sample entry and its config box. */
function sampleEntry(b: Uint8Array, stsd: Box, budget: BoxBudget): SampleEntryInfo {
  fullBoxHeader(b, stsd, 4);
  const entries = children(b, stsd.payload + 8, stsd.end, budget);
  const entry = entries[0];
  if (entry === undefined) throw malformed('stsd has no sample entry');
  const visual = ['avc1', 'avc3', 'hvc1', 'hev1'].includes(entry.type);
  const audio = entry.type === 'mp4a';
  if (!visual && !audio) return { type: entry.type, width: 0, height: 0, config: undefined };
  const header = visual ? VISUAL_ENTRY_HEADER : AUDIO_ENTRY_HEADER;
  if (entry.end - entry.payload < header) throw malformed('sample entry too short', { type: entry.type });
  const width = visual ? u16(b, entry.payload + 24) : 0;
  const height = visual ? u16(b, entry.payload + 26) : 0;
  const configType = audio ? 'esds' : entry.type.startsWith('avc') ? 'avcC' : 'hvcC';
  const cfg = children(b, entry.payload + header, entry.end, budget).find((c) => c.type === configType);
  return { type: entry.type, width, height, config: cfg === undefined ? undefined : copyOf(b, cfg.payload, cfg.end) };
}

function readTrex(b: Uint8Array, trex: Box): [number, TrackDefaults] {
  fullBoxHeader(b, trex, 20);
  const p = trex.payload + 4;
  return [u32(b, p), { sampleDescriptionIndex: u32(b, p + 4), sampleDuration: u32(b, p + 8), sampleSize: u32(b, p + 12), sampleFlags: u32(b, p + 16) }];
}

function readTrack(b: Uint8Array, trak: BoxNode, defaults: Map<number, TrackDefaults>, budget: BoxBudget): TrackInfo {
  const tkhd = child(trak, 'tkhd');
  const [version] = fullBoxHeader(b, tkhd, 20);
  const trackId = u32(b, tkhd.payload + 4 + (version === 1 ? 16 : 8));
  const mdia = child(trak, 'mdia');
  const timescale = mediaTimescale(b, child(mdia, 'mdhd'));
  const hdlr = child(mdia, 'hdlr');
  fullBoxHeader(b, hdlr, 8);
  const handler = String.fromCharCode(...b.subarray(hdlr.payload + 8, hdlr.payload + 12));
  const stbl = child(child(mdia, 'minf'), 'stbl');
  const entry = sampleEntry(b, child(stbl, 'stsd'), budget);
  return {
    trackId, handler, timescale, sampleEntry: entry.type, width: entry.width, height: entry.height,
    decoderConfig: entry.config, defaults: defaults.get(trackId) ?? NO_DEFAULTS,
  };
}

/** Parse ftyp + moov at the start of `bytes` (a segment file or an init segment on its own). */
export function parseInit(bytes: Uint8Array): InitInfo {
  const budget = new BoxBudget();
  let majorBrand = '';
  let at = 0;
  // Top level: ftyp (optional), then moov; stop at the first moof.
  while (at < bytes.length) {
    budget.take();
    const box = readBox(bytes, at, bytes.length, true);
    if (box.type === 'moof') break;
    if (box.type === 'ftyp' && box.end - box.payload >= 8) majorBrand = String.fromCharCode(...bytes.subarray(box.payload, box.payload + 4));
    if (box.type === 'moov') {
      const moov = boxNode(bytes, box, 0, budget);
      const trex = new Map<number, TrackDefaults>();
      const mvex = moov.children.find((c) => c.type === 'mvex');
      for (const t of mvex?.children ?? []) if (t.type === 'trex') trex.set(...readTrex(bytes, t));
      const tracks = moov.children.filter((c) => c.type === 'trak').map((t) => readTrack(bytes, t, trex, budget));
      if (tracks.length === 0) throw malformed('moov has no track');
      return { start: 0, end: moov.end, majorBrand, tracks };
    }
    at = box.end;
  }
  throw new VigilError('VIGIL_MP4_MALFORMED', 'no moov box before the first fragment');
}

