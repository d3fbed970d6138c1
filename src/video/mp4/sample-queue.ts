// Pending samples of one track for the fragment being built. Fixed-capacity typed arrays reused
// from fragment to fragment (design.md §5: no per-frame allocation in steady state); payloads are
// kept as references to the caller's buffers plus [start, end) ranges, copied once into the
// fragment buffer when it is written.
import { VigilError } from '../../core/errors.ts';
import { isOutOfBandNal, isParameterSetNal, nalType, nextStartCode } from './nal.ts';
import type { AccessUnit, VideoCodec } from './types.ts';

/** NAL units one access unit may carry (slices, SEI...); more is rejected, not buffered. */
export const MAX_NALS_PER_ACCESS_UNIT = 256;

export class SampleQueue {
  readonly capacity: number;
  readonly nalCapacity: number;
  /** Video samples carry 4-byte NAL length prefixes (14496-15 §5.3.2); audio is copied as is. */
  readonly codec: VideoCodec | 'aac';
  count = 0;
  nalCount = 0;
  payloadBytes = 0;
  firstDts = 0;
  /** Last dts accepted on this track, across fragments (-1: none yet). */
  lastDts = -1;
  readonly durations: Uint32Array;
  readonly sizes: Uint32Array;
  readonly ctsOffsets: Int32Array;
  readonly keyframes: Uint8Array;
  readonly nalFirst: Uint32Array;
  readonly nalStart: Uint32Array;
  readonly nalEnd: Uint32Array;
  readonly nalSrc: (Uint8Array | undefined)[];
  /** In-band parameter sets must equal one of these (else the init segment is stale). */
  readonly #parameterSets: readonly Uint8Array[];
  #staged = 0;
  #overflow = false;

  constructor(codec: VideoCodec | 'aac', capacity: number, parameterSets: readonly Uint8Array[]) {
    this.codec = codec;
    this.capacity = capacity;
    this.nalCapacity = codec === 'aac' ? capacity : Math.max(capacity * 4, MAX_NALS_PER_ACCESS_UNIT);
    this.durations = new Uint32Array(capacity);
    this.sizes = new Uint32Array(capacity);
    this.ctsOffsets = new Int32Array(capacity);
    this.keyframes = new Uint8Array(capacity);
    this.nalFirst = new Uint32Array(capacity + 1);
    this.nalStart = new Uint32Array(this.nalCapacity);
    this.nalEnd = new Uint32Array(this.nalCapacity);
    this.nalSrc = new Array<Uint8Array | undefined>(this.nalCapacity).fill(undefined);
    this.#parameterSets = parameterSets;
  }

  get lengthPrefixed(): boolean {
    return this.codec !== 'aac';
  }

  /** Duration of the pending samples in ticks (first dts to the last sample's end). */
  get pendingDuration(): number {
    // Earlier durations were corrected to the dts gaps in `commit`, so this is their sum.
    return this.count === 0 ? 0 : this.lastDts - this.firstDts + (this.durations[this.count - 1] ?? 0);
  }

  #checkParameterSet(src: Uint8Array, s: number, e: number): void {
    for (const p of this.#parameterSets) {
      if (p.length !== e - s) continue;
      let same = true;
      for (let i = 0; i < p.length && same; i++) same = p[i] === src[s + i];
      if (same) return;
    }
    throw new VigilError('VIGIL_MP4_PARAMETER_SETS_CHANGED', 'in-band parameter set differs from the init segment');
  }

  /** Stage one NAL range after the committed ones; returns the bytes it adds to the sample. */
  #stageNal(src: Uint8Array, s: number, e: number): number {
    if (this.codec !== 'aac') {
      const type = nalType(this.codec, src[s] ?? 0);
      if (isOutOfBandNal(this.codec, type)) {
        if (isParameterSetNal(this.codec, type)) this.#checkParameterSet(src, s, e);
        return 0;
      }
    }
    if (this.#staged >= MAX_NALS_PER_ACCESS_UNIT) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'access unit has too many NAL units');
    const at = this.nalCount + this.#staged;
    if (at >= this.nalCapacity) {
      this.#overflow = true; // keep validating and counting, store nothing
    } else {
      this.nalSrc[at] = src;
      this.nalStart[at] = s;
      this.nalEnd[at] = e;
    }
    this.#staged++;
    return (this.lengthPrefixed ? 4 : 0) + (e - s);
  }

  #stageAnnexB(src: Uint8Array): number {
    let bytes = 0;
    let sc = nextStartCode(src, 0);
    while (sc >= 0) {
      const s = sc + 3;
      const next = nextStartCode(src, s);
      let e = next < 0 ? src.length : next;
      while (e > s && src[e - 1] === 0) e--;
      if (e > s) {
        bytes += this.#stageNal(src, s, e);
      }
      sc = next;
    }
    return bytes;
  }

  #stageLengthPrefixed(src: Uint8Array): number {
    let bytes = 0;
    let p = 0;
    while (p < src.length) {
      const len = p + 4 <= src.length ? ((src[p] ?? 0) * 0x1000000) + (((src[p + 1] ?? 0) << 16) | ((src[p + 2] ?? 0) << 8) | (src[p + 3] ?? 0)) : -1;
      if (len <= 0 || len > src.length - p - 4) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'NAL length prefix out of bounds', { details: { offset: p } });
      bytes += this.#stageNal(src, p + 4, p + 4 + len);
      p += 4 + len;
    }
    return bytes;
  }

  /**
   * Split an access unit into NAL ranges after the committed samples, without committing.
   * Returns the sample size in bytes; `overflowed` tells that the ranges did not fit after the
   * committed ones (write the fragment out, then stage again). Throws (state unchanged) on a bad unit.
   */
  stage(au: AccessUnit, annexB: boolean): number {
    this.#staged = 0;
    this.#overflow = false;
    try {
      return this.#stage(au, annexB);
    } catch (err) {
      this.discardStaged();
      throw err;
    }
  }

  #stage(au: AccessUnit, annexB: boolean): number {
    const d = au.data;
    let bytes = 0;
    if (d instanceof Uint8Array) {
      if (this.codec === 'aac') bytes = this.#stageNal(d, 0, d.length);
      else bytes = annexB ? this.#stageAnnexB(d) : this.#stageLengthPrefixed(d);
    } else {
      for (const nal of d) {
        if (nal.length === 0) continue;
        bytes += this.#stageNal(nal, 0, nal.length);
      }
    }
    if (bytes === 0) throw new VigilError('VIGIL_MP4_BAD_ACCESS_UNIT', 'access unit has no sample data');
    return bytes;
  }

  /** Commit the staged NAL ranges as one sample; the previous sample's duration is corrected to the dts gap. */
  commit(au: AccessUnit, bytes: number): void {
    const i = this.count;
    if (i === 0) this.firstDts = au.dts;
    else this.durations[i - 1] = au.dts - this.lastDts;
    this.durations[i] = au.duration;
    this.sizes[i] = bytes;
    this.ctsOffsets[i] = au.ctsOffset;
    this.keyframes[i] = this.codec === 'aac' || au.keyframe ? 1 : 0;
    this.nalFirst[i] = this.nalCount;
    this.nalCount += this.#staged;
    this.nalFirst[i + 1] = this.nalCount;
    this.#staged = 0;
    this.count = i + 1;
    this.payloadBytes += bytes;
    this.lastDts = au.dts;
  }

  get overflowed(): boolean {
    return this.#overflow;
  }

  /** Forget staged ranges (and the references they hold); committed samples stay. */
  discardStaged(): void {
    this.nalSrc.fill(undefined, this.nalCount, Math.min(this.nalCount + this.#staged, this.nalCapacity));
    this.#staged = 0;
    this.#overflow = false;
  }

  /** Move staged ranges to the front after the committed samples were written out. */
  reset(keepStaged: boolean): void {
    const staged = keepStaged ? this.#staged : 0;
    if (staged > 0) {
      const from = this.nalCount;
      this.nalStart.copyWithin(0, from, from + staged);
      this.nalEnd.copyWithin(0, from, from + staged);
      for (let i = 0; i < staged; i++) this.nalSrc[i] = this.nalSrc[from + i];
    }
    this.nalSrc.fill(undefined, staged, this.nalCount + staged);
    this.count = 0;
    this.nalCount = 0;
    this.payloadBytes = 0;
    this.#staged = staged;
  }
}
