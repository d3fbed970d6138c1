// Fragmented MP4 muxer: access units in, one init segment plus one self-contained media fragment
// (moof + mdat) per GOP out, each fragment its own buffer so the recorder can seal it on its own.
import { VigilError } from '../../core/errors.ts';
import { writeFragment } from './fragment-writer.ts';
import { buildInitSegment } from './init-segment.ts';
import { SampleQueue } from './sample-queue.ts';
import { prepareTracks, type PreparedTrack } from './track.ts';
import type { AccessUnit, TrackConfig } from './types.ts';

export interface MuxerOptions {
  /** A keyframe on the first track starts a new fragment once the pending one lasts this long (0: every GOP). */
  readonly minFragmentSeconds?: number;
  /** Hard cut even without a keyframe (long-GOP cameras); such fragments are not seek points. */
  readonly maxFragmentSeconds?: number;
  /** Per-track sample capacity of one fragment. */
  readonly maxSamplesPerFragment?: number;
  /** Payload bytes of one fragment. */
  readonly maxFragmentBytes?: number;
  /** mfhd sequence_number of the first fragment. */
  readonly firstSequenceNumber?: number;
}

export interface MediaFragment {
  readonly bytes: Uint8Array;
  readonly sequenceNumber: number;
  /** tfdt of the first track, in its timescale. */
  readonly baseDecodeTime: number;
  readonly duration: number;
  readonly timescale: number;
  readonly sampleCount: number;
  /** First sample of the first track is a sync sample: playback can start here. */
  readonly keyframe: boolean;
}

const DEFAULTS = { minFragmentSeconds: 0, maxFragmentSeconds: 10, maxSamplesPerFragment: 2048, maxFragmentBytes: 64 * 1024 * 1024 } as const;
const MAX_U32 = 0xffff_ffff;

function checkOption(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', `muxer option ${name} out of range`, { details: { [name]: v } });
  return v;
}

export class FragmentMuxer {
  readonly tracks: readonly PreparedTrack[];
  /** ftyp + moov: write once at the start of every segment file. */
  readonly init: Uint8Array;
  readonly #queues: SampleQueue[];
  readonly #trackIds: number[];
  readonly #annexB: boolean[];
  readonly #minTicks: number;
  readonly #maxTicks: number[];
  readonly #maxBytes: number;
  #sequence: number;

  constructor(tracks: readonly TrackConfig[], options: MuxerOptions = {}) {
    this.tracks = prepareTracks(tracks);
    this.init = buildInitSegment(this.tracks);
    const capacity = Math.floor(checkOption('maxSamplesPerFragment', options.maxSamplesPerFragment ?? DEFAULTS.maxSamplesPerFragment, 1, 65536));
    this.#queues = this.tracks.map((t) => new SampleQueue(t.config.kind === 'video' ? t.config.codec : 'aac', capacity, t.config.kind === 'video' ? t.config.parameterSets : []));
    this.#trackIds = this.tracks.map((t) => t.trackId);
    this.#annexB = this.tracks.map((t) => t.config.kind === 'video' && (t.config.framing ?? 'annexb') === 'annexb');
    const primary = this.tracks[0]?.timescale ?? 1;
    const maxSeconds = checkOption('maxFragmentSeconds', options.maxFragmentSeconds ?? DEFAULTS.maxFragmentSeconds, 0.001, 3600);
    this.#minTicks = checkOption('minFragmentSeconds', options.minFragmentSeconds ?? DEFAULTS.minFragmentSeconds, 0, maxSeconds) * primary;
    this.#maxTicks = this.tracks.map((t) => maxSeconds * t.timescale);
    this.#maxBytes = checkOption('maxFragmentBytes', options.maxFragmentBytes ?? DEFAULTS.maxFragmentBytes, 1024, 1024 * 1024 * 1024);
    this.#sequence = Math.floor(checkOption('firstSequenceNumber', options.firstSequenceNumber ?? 1, 0, MAX_U32));
  }

  #validate(q: SampleQueue, au: AccessUnit): void {
    const bad = (why: string): never => {
      throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', `access unit rejected: ${why}`, { details: { dts: au.dts, duration: au.duration } });
    };
    if (!Number.isSafeInteger(au.dts) || au.dts < 0) bad('dts must be a non-negative safe integer');
    if (!Number.isInteger(au.duration) || au.duration < 1 || au.duration > MAX_U32) bad('duration out of range');
    if (!Number.isInteger(au.ctsOffset) || au.ctsOffset < -0x8000_0000 || au.ctsOffset > 0x7fff_ffff) bad('composition offset out of range');
    if (q.lastDts >= 0 && au.dts <= q.lastDts) bad('dts not increasing');
  }

  /** Whether the pending fragment must be written before `au` joins track `index`. */
  #mustCut(index: number, au: AccessUnit, q: SampleQueue, bytes: number): boolean {
    if (this.#pendingSamples() === 0) return false;
    if (q.count >= q.capacity || this.#pendingBytes() + bytes > this.#maxBytes) return true;
    if (index !== 0 || q.count === 0) return false;
    const pending = au.dts - q.firstDts;
    const maxTicks = this.#maxTicks[0] ?? 0;
    // A gap longer than a fragment (signal loss) starts a new fragment instead of a long sample.
    if (pending >= maxTicks || au.dts - q.lastDts > maxTicks) return true;
    if (q.codec === 'aac') return pending >= Math.max(this.#minTicks, this.tracks[0]?.timescale ?? 1);
    return au.keyframe && pending >= this.#minTicks;
  }

  #pendingBytes(): number {
    let n = 0;
    for (const q of this.#queues) n += q.payloadBytes;
    return n;
  }

  #pendingSamples(): number {
    let n = 0;
    for (const q of this.#queues) n += q.count;
    return n;
  }

  /**
   * Add one access unit to track `trackIndex` (0-based, in constructor order). Returns the
   * fragment this unit closed, if any. On error nothing is added and pending samples stay.
   */
  push(trackIndex: number, au: AccessUnit): MediaFragment | undefined {
    const q = this.#queues[trackIndex];
    if (q === undefined) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'unknown track index', { details: { trackIndex } });
    this.#validate(q, au);
    const annexB = this.#annexB[trackIndex] === true;
    // Every check that can throw runs before a fragment is emitted, so a throw never loses one.
    let bytes = q.stage(au, annexB);
    if (bytes > this.#maxBytes) {
      q.discardStaged();
      throw new VigilError('VIGIL_MP4_TOO_LARGE', 'access unit larger than a fragment may be', { details: { bytes } });
    }
    let out: MediaFragment | undefined;
    if (q.overflowed) {
      // Staged NAL units did not fit after the committed ones; an emptied queue always has room
      // (MAX_NALS_PER_ACCESS_UNIT ≤ nalCapacity) and the unit was fully validated already.
      out = this.#emit(false);
      bytes = q.stage(au, annexB);
    } else if (this.#mustCut(trackIndex, au, q, bytes)) {
      out = this.#emit(true, trackIndex);
    }
    q.commit(au, bytes);
    return out;
  }

  /** Write out whatever is pending (end of recording, segment roll-over, parameter set change). */
  flush(): MediaFragment | undefined {
    return this.#pendingSamples() === 0 ? undefined : this.#emit(false);
  }

  #emit(keepStagedOf: boolean, stagedTrack = -1): MediaFragment {
    const first = this.#queues[0];
    const primary = first !== undefined && first.count > 0 ? first : this.#queues.find((q) => q.count > 0);
    const info = {
      sequenceNumber: this.#sequence,
      baseDecodeTime: primary?.firstDts ?? 0,
      duration: primary?.pendingDuration ?? 0,
      timescale: this.tracks[primary === undefined ? 0 : this.#queues.indexOf(primary)]?.timescale ?? 1,
      sampleCount: primary?.count ?? 0,
      keyframe: primary?.keyframes[0] === 1,
    };
    const bytes = writeFragment(this.#sequence, this.#trackIds, this.#queues);
    this.#sequence = (this.#sequence + 1) % (MAX_U32 + 1);
    this.#queues.forEach((q, i) => q.reset(keepStagedOf && i === stagedTrack));
    return { bytes, ...info };
  }
}
