// AAC: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) and ADTS headers (§1.A.2.2) so a camera's
// ADTS audio can be stored as raw AAC frames in an 'mp4a' track.
import { VigilError } from '../../core/errors.ts';

const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

/**
 * AudioSpecificConfig for AAC without extensions:
 *   5b audioObjectType, 4b samplingFrequencyIndex, 4b channelConfiguration, 3b GASpecificConfig = 0.
 */
export function aacAudioSpecificConfig(objectType: number, sampleRate: number, channels: number): Uint8Array {
  const index = SAMPLE_RATES.indexOf(sampleRate as (typeof SAMPLE_RATES)[number]);
  if (index < 0 || objectType < 1 || objectType > 30 || channels < 1 || channels > 7) {
    throw new VigilError('VIGIL_MP4_UNSUPPORTED', 'unsupported AAC configuration', { details: { objectType, sampleRate, channels } });
  }
  return Uint8Array.of((objectType << 3) | (index >>> 1), ((index & 1) << 7) | (channels << 3));
}

export interface AdtsFrame {
  readonly objectType: number;
  readonly sampleRate: number;
  readonly channels: number;
  /** Header length: 7, or 9 with CRC. */
  readonly headerBytes: number;
  /** Whole frame length including the header. */
  readonly frameBytes: number;
}

/** Parse the ADTS header at `offset`; the raw AAC frame is bytes[offset+headerBytes, offset+frameBytes). */
export function parseAdtsHeader(bytes: Uint8Array, offset: number): AdtsFrame {
  if (offset < 0 || offset + 7 > bytes.length) throw new VigilError('VIGIL_MP4_MALFORMED', 'ADTS header truncated');
  const b = (i: number): number => bytes[offset + i] ?? 0;
  if (b(0) !== 0xff || (b(1) & 0xf6) !== 0xf0) throw new VigilError('VIGIL_MP4_MALFORMED', 'ADTS syncword missing');
  const headerBytes = (b(1) & 1) === 1 ? 7 : 9;
  const objectType = (b(2) >>> 6) + 1;
  const sampleRate = SAMPLE_RATES[(b(2) >>> 2) & 0x0f];
  const channels = ((b(2) & 1) << 2) | (b(3) >>> 6);
  const frameBytes = ((b(3) & 3) << 11) | (b(4) << 3) | (b(5) >>> 5);
  if (sampleRate === undefined || channels === 0) throw new VigilError('VIGIL_MP4_UNSUPPORTED', 'ADTS sample rate or channel layout unsupported');
  if (frameBytes <= headerBytes || offset + frameBytes > bytes.length) throw new VigilError('VIGIL_MP4_MALFORMED', 'ADTS frame length out of bounds');
  return { objectType, sampleRate, channels, headerBytes, frameBytes };
}
