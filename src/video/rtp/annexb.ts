// Annex B byte streams (ITU-T H.264 / H.265 Annex B): NAL units separated by 0x000001 or
// 0x00000001 start codes. The camera's encoder writes this format; these helpers split it into
// NAL units and group those into access units (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4) for the
// packetizers. Results are views into the input (no copy).

/** The NAL units of an Annex B buffer, as views; trailing zero bytes are not part of a unit. */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  const n = data.length;
  while (i + 2 < n) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) pushUnit(data, start, i, units);
      i += 3;
      start = i;
    } else {
      i += 1;
    }
  }
  if (start >= 0) pushUnit(data, start, n, units);
  return units;
}

function pushUnit(data: Uint8Array, start: number, end: number, units: Uint8Array[]): void {
  let e = end;
  while (e > start && data[e - 1] === 0) e -= 1; // zero_byte of the next start code / trailing_zero_8bits
  if (e > start) units.push(data.subarray(start, e));
}

/** True when this NAL unit starts a new access unit, given whether the current one has a picture. */
export function startsAccessUnit(codec: 'H264' | 'H265', nal: Uint8Array, currentHasPicture: boolean): boolean {
  if (!currentHasPicture) return false;
  if (codec === 'H264') {
    const type = (nal[0] ?? 0) & 0x1f;
    if (type === 1 || type === 5) return ((nal[1] ?? 0) & 0x80) !== 0; // first_mb_in_slice == 0
    return type === 6 || type === 7 || type === 8 || type === 9 || (type >= 14 && type <= 18);
  }
  const type = ((nal[0] ?? 0) >> 1) & 0x3f;
  if (type <= 31) return ((nal[2] ?? 0) & 0x80) !== 0; // first_slice_segment_in_pic_flag
  return type === 32 || type === 33 || type === 34 || type === 35 || type === 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

export function isPictureNal(codec: 'H264' | 'H265', nal: Uint8Array): boolean {
  if (codec === 'H264') {
    const type = (nal[0] ?? 0) & 0x1f;
    return type >= 1 && type <= 5;
  }
  return (((nal[0] ?? 0) >> 1) & 0x3f) <= 31;
}

/** Groups NAL units into access units (each a list of views). */
export function groupAccessUnits(codec: 'H264' | 'H265', nals: readonly Uint8Array[]): Uint8Array[][] {
  const units: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let hasPicture = false;
  for (const nal of nals) {
    if (startsAccessUnit(codec, nal, hasPicture)) {
      units.push(current);
      current = [];
      hasPicture = false;
    }
    current.push(nal);
    if (isPictureNal(codec, nal)) hasPicture = true;
  }
  if (current.length > 0) units.push(current);
  return units;
}
