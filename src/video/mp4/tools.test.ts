// Real-tool checks (testing.md layer 1 with real tools): ffmpeg makes 1080p30 H.264/H.265 clips,
// we split, mux and write them, and ffprobe/ffmpeg must read back the codec, size, frame count and
// duration and decode without error. Also the other direction: our reader on ffmpeg's fMP4.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FragmentMuxer } from './muxer.ts';
import { splitElementaryStream } from './elementary-stream.ts';
import { concatSegments, cutTimeRange, openSegment } from './edit.ts';
import { parseAdtsHeader, aacAudioSpecificConfig } from './aac.ts';
import { decodeErrors, ffmpeg, ffprobe, hasEncoder, makeAdtsClip, makeClip, type Clip } from './test-tools.ts';
import type { VideoCodec } from './types.ts';

const FRAME_TICKS = 3000; // 90 kHz / 30 fps
let h264: Clip | undefined;

before(async () => {
  h264 = await makeClip('h264');
});
after(() => h264?.remove());

function clip(): Clip {
  if (h264 === undefined) throw new Error('clip not made');
  return h264;
}

/** Split an Annex-B clip, mux it at 30 fps, return the file bytes. */
function muxClip(bytes: Uint8Array, codec: VideoCodec): Uint8Array {
  const es = splitElementaryStream(bytes, codec);
  const m = new FragmentMuxer([{ kind: 'video', codec, timescale: 90000, parameterSets: es.parameterSets }]);
  const parts: Uint8Array[] = [m.init];
  es.units.forEach((u, i) => {
    const f = m.push(0, { data: u.data, dts: i * FRAME_TICKS, ctsOffset: 0, duration: FRAME_TICKS, keyframe: u.keyframe });
    if (f !== undefined) parts.push(f.bytes);
  });
  const last = m.flush();
  if (last !== undefined) parts.push(last.bytes);
  return Buffer.concat(parts);
}

async function probeVideo(file: string): Promise<{ codec: unknown; tag: unknown; width: unknown; height: unknown; frames: number; duration: number }> {
  const p = await ffprobe(file);
  const v = p.streams.find((s) => s.codec_type === 'video');
  assert.ok(v, 'ffprobe found a video stream');
  return { codec: v.codec_name, tag: v.codec_tag_string, width: v.width, height: v.height, frames: Number(v.nb_read_frames), duration: Number(p.format.duration) };
}

async function checkCodec(codec: VideoCodec, bytes: Uint8Array, dir: string): Promise<void> {
  const file = path.join(dir, `${codec}.mp4`);
  writeFileSync(file, muxClip(bytes, codec));
  const p = await probeVideo(file);
  assert.deepEqual([p.codec, p.tag, p.width, p.height, p.frames], [codec === 'h264' ? 'h264' : 'hevc', codec === 'h264' ? 'avc1' : 'hvc1', 1920, 1080, 180]);
  assert.ok(Math.abs(p.duration - 6.0) < 0.05, `duration ${String(p.duration)}`);
  assert.equal(await decodeErrors(file), '');
}

test('H.264 1080p30 clip: split, muxed, accepted by ffprobe (h264, 1920x1080, 180 frames, 6.0 s) and decoded cleanly', async () => {
  await checkCodec('h264', clip().bytes, clip().dir);
});

test('H.265 1080p30 clip (libx265): hvc1, 1920x1080, 180 frames, 6.0 s', async () => {
  assert.ok(await hasEncoder('libx265'), "ffmpeg lacks libx265: install the apt package 'ffmpeg' built with x265");
  const c = await makeClip('h265');
  try {
    await checkCodec('h265', c.bytes, c.dir);
  } finally {
    c.remove();
  }
});

test('time-range cut 2.1–3.5 s is a playable fMP4 of whole GOPs: 60 frames from 2.0 s', async () => {
  const seg = openSegment(muxClip(clip().bytes, 'h264'));
  const cut = cutTimeRange(seg, 2.1, 3.5);
  assert.deepEqual([cut.startSeconds, cut.endSeconds], [2, 4]);
  const file = path.join(clip().dir, 'cut.mp4');
  writeFileSync(file, Buffer.concat(cut.parts));
  const p = await probeVideo(file);
  assert.equal(p.frames, 60);
  assert.equal(await decodeErrors(file), '');
});

test('concatenating two segments gives one continuous 12 s stream of 360 frames', async () => {
  const seg = openSegment(muxClip(clip().bytes, 'h264'));
  const file = path.join(clip().dir, 'joined.mp4');
  writeFileSync(file, Buffer.concat([...concatSegments([{ segment: seg }, { segment: seg }])]));
  const p = await probeVideo(file);
  assert.equal(p.frames, 360);
  assert.ok(Math.abs(p.duration - 12.0) < 0.05, `duration ${String(p.duration)}`);
  assert.equal(await decodeErrors(file), '');
});

test("reader on ffmpeg's own fragmented MP4: same avcC, 180 samples in keyframe fragments", async () => {
  const ref = path.join(clip().dir, 'ffmpeg.mp4');
  await ffmpeg(['-r', '30', '-i', clip().file, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', ref]);
  const theirs = openSegment(readFileSync(ref));
  const ours = openSegment(muxClip(clip().bytes, 'h264'));
  const cfg = (s: typeof ours): string => Buffer.from(s.init.tracks[0]?.decoderConfig ?? new Uint8Array(0)).toString('hex');
  assert.equal(cfg(theirs), cfg(ours));
  assert.equal(theirs.fragments.reduce((n, f) => n + f.sampleCount, 0), 180);
  assert.ok(theirs.fragments.every((f) => f.keyframe));
});

test('video + AAC audio: ffprobe sees h264 and aac 48 kHz streams of 6 s', async () => {
  const adts = await makeAdtsClip(clip().dir);
  const es = splitElementaryStream(clip().bytes, 'h264');
  const first = parseAdtsHeader(adts, 0);
  const m = new FragmentMuxer([
    { kind: 'video', codec: 'h264', timescale: 90000, parameterSets: es.parameterSets },
    { kind: 'audio', codec: 'aac', sampleRate: first.sampleRate, channels: first.channels, audioSpecificConfig: aacAudioSpecificConfig(first.objectType, first.sampleRate, first.channels) },
  ]);
  const parts: Uint8Array[] = [m.init];
  let a = 0;
  let audioDts = 0;
  es.units.forEach((u, i) => {
    const f = m.push(0, { data: u.data, dts: i * FRAME_TICKS, ctsOffset: 0, duration: FRAME_TICKS, keyframe: u.keyframe });
    if (f !== undefined) parts.push(f.bytes);
    // Interleave the audio that belongs before the next video frame (1024 samples per AAC frame).
    while (a < adts.length && audioDts * 90000 < (i + 1) * FRAME_TICKS * 48000) {
      const h = parseAdtsHeader(adts, a);
      m.push(1, { data: adts.subarray(a + h.headerBytes, a + h.frameBytes), dts: audioDts, ctsOffset: 0, duration: 1024, keyframe: true });
      a += h.frameBytes;
      audioDts += 1024;
    }
  });
  const last = m.flush();
  if (last !== undefined) parts.push(last.bytes);
  const file = path.join(clip().dir, 'av.mp4');
  writeFileSync(file, Buffer.concat(parts));
  const p = await ffprobe(file);
  const audio = p.streams.find((s) => s.codec_type === 'audio');
  assert.deepEqual([audio?.codec_name, audio?.sample_rate, audio?.channels], ['aac', '48000', 2]);
  assert.ok(Math.abs(Number(audio?.duration) - 6.0) < 0.1, `audio duration ${String(audio?.duration)}`);
  assert.equal(p.streams.find((s) => s.codec_type === 'video')?.nb_read_frames, '180');
  assert.equal(await decodeErrors(file), '');
});
