// Privacy masks (CAM-5.5.1.2): rectangles in normalised coordinates, burnt into the picture by the
// encoder's filter graph *before* encoding, so no masked pixel exists in any stream, snapshot or
// recording made from it.
import { VigilError } from '../core/errors.ts';

export interface PrivacyMask {
  /** Left, top, width, height as fractions of the picture (0..1). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export const MAX_MASKS = 16;

export function checkMasks(masks: readonly PrivacyMask[]): void {
  if (masks.length > MAX_MASKS) throw new VigilError('VIGIL_VALIDATION', `at most ${MAX_MASKS} privacy masks`, { details: { field: 'masks' } });
  for (const m of masks) {
    const values = [m.x, m.y, m.width, m.height];
    if (values.some((v) => !Number.isFinite(v) || v < 0 || v > 1) || m.width === 0 || m.height === 0 || m.x + m.width > 1 || m.y + m.height > 1) {
      throw new VigilError('VIGIL_VALIDATION', 'a privacy mask is a rectangle inside the picture, in fractions 0..1', { details: { field: 'masks' } });
    }
  }
}

/** ffmpeg filters drawing each mask as an opaque black box (expressions of the input size). */
export function maskFilters(masks: readonly PrivacyMask[]): string[] {
  checkMasks(masks);
  // Rounded outwards to whole pixels so a mask never leaves a sliver at its edge.
  return masks.map((m) => `drawbox=x=floor(iw*${m.x}):y=floor(ih*${m.y}):w=ceil(iw*${m.width})+1:h=ceil(ih*${m.height})+1:color=black@1:t=fill`);
}
