// Initialization segment (ISO/IEC 14496-12 §8.8, fragmented movie): ftyp + moov with one trak per
// track, empty sample tables, and mvex/trex announcing that samples follow in movie fragments.
import { ByteWriter } from './byte-writer.ts';
import type { PreparedTrack } from './track.ts';

/** §8.2.2 / §8.3.2 unity transformation matrix. */
const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000] as const;
/** ISO-639-2/T 'und' packed as three 5-bit letters (§8.4.2.3). */
const LANGUAGE_UND = 0x55c4;
export const FTYP_BRANDS = { major: 'isom', minor: 0x200, compatible: ['isom', 'iso6', 'mp41'] } as const;

/** §4.3 ftyp: major_brand, minor_version, compatible_brands[]. */
export function writeFtyp(w: ByteWriter): void {
  const at = w.box('ftyp');
  w.fourcc(FTYP_BRANDS.major);
  w.u32(FTYP_BRANDS.minor);
  for (const b of FTYP_BRANDS.compatible) w.fourcc(b);
  w.end(at);
}

function writeMatrix(w: ByteWriter): void {
  for (const m of MATRIX) w.u32(m);
}

/** §8.2.2 mvhd v0: times, timescale, duration, rate, volume, matrix, next_track_ID. */
export function writeMvhd(w: ByteWriter, nextTrackId: number): void {
  const at = w.fullBox('mvhd', 0, 0);
  w.u32(0); // creation_time: unknown (not a wall clock we want to leak)
  w.u32(0); // modification_time
  w.u32(1000); // timescale
  w.u32(0); // duration: fragments carry the timeline
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(2 + 8); // reserved
  writeMatrix(w);
  w.zeros(24); // pre_defined
  w.u32(nextTrackId);
  w.end(at);
}

/** §8.3.2 tkhd v0, flags track_enabled|track_in_movie; width/height are 16.16 fixed point. */
function writeTkhd(w: ByteWriter, t: PreparedTrack): void {
  const at = w.fullBox('tkhd', 0, 0x000003);
  w.u32(0);
  w.u32(0);
  w.u32(t.trackId);
  w.u32(0); // reserved
  w.u32(0); // duration
  w.zeros(8); // reserved
  w.u16(0); // layer
  w.u16(0); // alternate_group
  w.u16(t.handler === 'soun' ? 0x0100 : 0); // volume
  w.u16(0);
  writeMatrix(w);
  w.u32(t.width * 0x10000);
  w.u32(t.height * 0x10000);
  w.end(at);
}

/** §8.4.2 mdhd v0 and §8.4.3 hdlr. */
function writeMdhdHdlr(w: ByteWriter, t: PreparedTrack): void {
  const mdhd = w.fullBox('mdhd', 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(t.timescale);
  w.u32(0);
  w.u16(LANGUAGE_UND);
  w.u16(0);
  w.end(mdhd);
  const hdlr = w.fullBox('hdlr', 0, 0);
  w.u32(0); // pre_defined
  w.fourcc(t.handler);
  w.zeros(12); // reserved
  w.raw(new TextEncoder().encode(t.handler === 'vide' ? 'VideoHandler\0' : 'SoundHandler\0'));
  w.end(hdlr);
}

/** §12.1.3 VisualSampleEntry + 14496-15 §5.4.2 (avc1/avcC) or §8.4.1 (hvc1/hvcC). */
function writeVisualSampleEntry(w: ByteWriter, t: PreparedTrack): void {
  const at = w.box(t.sampleEntry);
  w.zeros(6); // SampleEntry reserved
  w.u16(1); // data_reference_index
  w.zeros(16); // pre_defined, reserved, pre_defined[3]
  w.u16(t.width);
  w.u16(t.height);
  w.u32(0x00480000); // 72 dpi
  w.u32(0x00480000);
  w.u32(0); // reserved
  w.u16(1); // frame_count
  w.zeros(32); // compressorname (empty Pascal string)
  w.u16(0x0018); // depth
  w.u16(0xffff); // pre_defined = -1
  const cfg = w.box(t.sampleEntry === 'avc1' ? 'avcC' : 'hvcC');
  w.raw(t.decoderConfig);
  w.end(cfg);
  w.end(at);
}

/**
 * §12.2.3 AudioSampleEntry 'mp4a' + esds (ISO/IEC 14496-14 §5.6; descriptors 14496-1 §7.2.6):
 * ES_Descriptor(0x03){ ES_ID, flags, DecoderConfigDescriptor(0x04){ 0x40 AAC, streamType 5,
 * buffer/bitrates, DecoderSpecificInfo(0x05){ AudioSpecificConfig } }, SLConfigDescriptor(0x06){2} }.
 * All descriptor lengths fit one byte because the AudioSpecificConfig is ≤ 64 bytes.
 */
function writeAudioSampleEntry(w: ByteWriter, t: PreparedTrack): void {
  const channels = t.config.kind === 'audio' ? t.config.channels : 2;
  const at = w.box('mp4a');
  w.zeros(6);
  w.u16(1);
  w.zeros(8); // reserved
  w.u16(channels);
  w.u16(16); // samplesize
  w.zeros(4); // pre_defined, reserved
  w.u32(t.timescale * 0x10000 >>> 0);
  const esds = w.fullBox('esds', 0, 0);
  const asc = t.decoderConfig;
  w.u8(0x03);
  w.u8(3 + 2 + 13 + 2 + asc.length + 3);
  w.u16(t.trackId);
  w.u8(0);
  w.u8(0x04);
  w.u8(13 + 2 + asc.length);
  w.u8(0x40); // objectTypeIndication: Audio ISO/IEC 14496-3
  w.u8(0x15); // streamType audio(5) << 2 | reserved 1
  w.u24(0);
  w.u32(0);
  w.u32(0);
  w.u8(0x05);
  w.u8(asc.length);
  w.raw(asc);
  w.u8(0x06);
  w.u8(1);
  w.u8(0x02);
  w.end(esds);
  w.end(at);
}

/** §8.5 stbl with stsd and the empty stts/stsc/stsz/stco a fragmented file requires. */
function writeStbl(w: ByteWriter, t: PreparedTrack): void {
  const stbl = w.box('stbl');
  const stsd = w.fullBox('stsd', 0, 0);
  w.u32(1);
  if (t.handler === 'vide') writeVisualSampleEntry(w, t);
  else writeAudioSampleEntry(w, t);
  w.end(stsd);
  for (const type of ['stts', 'stsc', 'stco']) {
    const b = w.fullBox(type, 0, 0);
    w.u32(0);
    w.end(b);
  }
  const stsz = w.fullBox('stsz', 0, 0);
  w.u32(0);
  w.u32(0);
  w.end(stsz);
  w.end(stbl);
}

/** §8.4.5 minf: vmhd (§12.1.2) or smhd (§12.2.2), dinf/dref with one self-contained url (§8.7.2). */
function writeMinf(w: ByteWriter, t: PreparedTrack): void {
  const minf = w.box('minf');
  if (t.handler === 'vide') {
    const vmhd = w.fullBox('vmhd', 0, 1);
    w.zeros(8);
    w.end(vmhd);
  } else {
    const smhd = w.fullBox('smhd', 0, 0);
    w.zeros(4);
    w.end(smhd);
  }
  const dinf = w.box('dinf');
  const dref = w.fullBox('dref', 0, 0);
  w.u32(1);
  const url = w.fullBox('url ', 0, 1);
  w.end(url);
  w.end(dref);
  w.end(dinf);
  writeStbl(w, t);
  w.end(minf);
}

/** §8.8.3 trex: per-track fragment defaults (we write every sample field in trun instead). */
function writeTrex(w: ByteWriter, trackId: number): void {
  const at = w.fullBox('trex', 0, 0);
  w.u32(trackId);
  w.u32(1); // default_sample_description_index
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.end(at);
}

export function buildInitSegment(tracks: readonly PreparedTrack[]): Uint8Array {
  let capacity = 1024;
  for (const t of tracks) capacity += 1024 + t.decoderConfig.length;
  const w = new ByteWriter(capacity);
  writeFtyp(w);
  const moov = w.box('moov');
  writeMvhd(w, tracks.length + 1);
  for (const t of tracks) {
    const trak = w.box('trak');
    writeTkhd(w, t);
    const mdia = w.box('mdia');
    writeMdhdHdlr(w, t);
    writeMinf(w, t);
    w.end(mdia);
    w.end(trak);
  }
  const mvex = w.box('mvex');
  for (const t of tracks) writeTrex(w, t.trackId);
  w.end(mvex);
  w.end(moov);
  return w.result();
}
