// The camera role's own encoder as a recording feed (CAM-5.1.1.2): the device records what it
// streams into the same sealed segment store the NVR uses — per-segment DEKs wrapped by the
// device-bound key-encryption key, so a copied card or disk is unreadable on any other machine.
// Access units go to the recorder as they leave the encoder, no RTSP loop in between.
import type { AccessUnit } from '../video/rtp/access-unit.ts';
import { H264_NAL } from '../video/rtp/h264.ts';
import type { FeedSink, FeedTrack, RecordingFeed } from '../video/recorder/camera-recorder.ts';

/** Parameter sets arrive in band (SPS/PPS before each IDR). */
const TRACK: FeedTrack = { codec: 'H264', parameterSets: [] };

export class EncoderFeed {
  readonly #sinks = new Set<FeedSink>();

  /** For CameraRecorderOptions.feed: each recorder gets the access units while it runs. */
  readonly attach = (sink: FeedSink): RecordingFeed => ({
    start: () => {
      this.#sinks.add(sink);
      sink.onConnected(TRACK.codec);
    },
    stop: async () => {
      this.#sinks.delete(sink);
    },
  });

  /** One access unit from the encoder: NAL units without start codes, 90 kHz timestamp. */
  push(nals: readonly Uint8Array[], timestamp90k: number): void {
    if (this.#sinks.size === 0) return;
    let size = 0;
    let keyframe = false;
    for (const nal of nals) {
      size += 4 + nal.length;
      if (((nal[0] ?? 0) & 0x1f) === H264_NAL.IDR) keyframe = true;
    }
    const data = Buffer.allocUnsafe(size);
    let at = 0;
    for (const nal of nals) {
      data.writeUInt32BE(nal.length, at);
      data.set(nal, at + 4);
      at += 4 + nal.length;
    }
    const au: AccessUnit = { timestamp: timestamp90k >>> 0, keyframe, nalCount: nals.length, data };
    for (const sink of this.#sinks) sink.onAccessUnit(TRACK, au);
  }
}
