// Strict box parsing (ISO/IEC 14496-12 §4.2):
//   size(32) type(32) [largesize(64) if size == 1] [usertype(128) if type == 'uuid'] payload
// size == 0 means "to the end of the file" and is accepted only for the last top-level box.
// Every size is checked against its container and a hard maximum before anything is read.
import { VigilError } from '../../core/errors.ts';

/** Largest box we accept (a fragment of a 60 s segment is far smaller). */
export const MAX_BOX_BYTES = 512 * 1024 * 1024;
/** Deepest nesting we walk (moov/trak/mdia/minf/stbl/stsd/avc1/avcC is 8). */
export const MAX_BOX_DEPTH = 12;
/** Boxes one parse may visit. */
export const MAX_BOXES = 100_000;

export interface Box {
  readonly type: string;
  /** Offset of the box header in the buffer. */
  readonly start: number;
  /** Offset of the payload (after size/type/largesize/usertype). */
  readonly payload: number;
  /** One past the last byte of the box. */
  readonly end: number;
}

export function malformed(message: string, details?: Record<string, unknown>): VigilError {
  return new VigilError('VIGIL_MP4_MALFORMED', message, details === undefined ? undefined : { details });
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) * 0x1000000) + (((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0));
}

export function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);
}

/** Read a 64-bit unsigned field; values above 2^53 − 1 are rejected. */
export function u64(b: Uint8Array, at: number): number {
  const hi = u32(b, at);
  if (hi > 0x1f_ffff) throw malformed('64-bit value too large', { offset: at });
  return hi * 0x1_0000_0000 + u32(b, at + 4);
}

/**
 * Read the box header at `at` inside a container ending at `limit`. `topLevel` allows size 0.
 */
export function readBox(b: Uint8Array, at: number, limit: number, topLevel: boolean): Box {
  if (limit > b.length || at < 0 || at + 8 > limit) throw malformed('box header truncated', { offset: at });
  const size32 = u32(b, at);
  const type = fourcc(b, at + 4);
  let header = 8;
  let size: number;
  if (size32 === 1) {
    if (at + 16 > limit) throw malformed('largesize truncated', { offset: at, type });
    size = u64(b, at + 8);
    header = 16;
  } else if (size32 === 0) {
    if (!topLevel) throw malformed('size 0 inside a container', { offset: at, type });
    size = limit - at;
  } else {
    size = size32;
  }
  if (type === 'uuid') header += 16;
  if (size < header) throw malformed('box smaller than its header', { offset: at, type, size });
  if (size > MAX_BOX_BYTES) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'box exceeds the maximum size', { details: { offset: at, type, size } });
  if (size > limit - at) throw malformed('box extends past its container', { offset: at, type, size });
  return { type, start: at, payload: at + header, end: at + size };
}

/**
 * Visit the child boxes of [from, to). `budget` counts visited boxes across a parse so a file of
 * millions of tiny boxes is rejected rather than walked.
 */
export function forEachChild(b: Uint8Array, from: number, to: number, budget: BoxBudget, visit: (box: Box) => void, topLevel = false): void {
  let at = from;
  while (at < to) {
    budget.take();
    const box = readBox(b, at, to, topLevel);
    visit(box);
    at = box.end;
  }
}

/** Children of [from, to) as a list (containers are small: moov, trak, traf...). */
export function children(b: Uint8Array, from: number, to: number, budget: BoxBudget): Box[] {
  const out: Box[] = [];
  forEachChild(b, from, to, budget, (box) => out.push(box));
  return out;
}

export class BoxBudget {
  #left: number;
  constructor(maxBoxes = MAX_BOXES) {
    this.#left = maxBoxes;
  }
  take(): void {
    if (--this.#left < 0) throw new VigilError('VIGIL_MP4_TOO_LARGE', 'too many boxes');
  }
}

/** Containers whose payload is nothing but boxes (§8.1–§8.8 box catalogue). */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'dinf', 'edts', 'mvex', 'moof', 'traf', 'mfra', 'udta']);

export interface BoxNode extends Box {
  readonly depth: number;
  readonly children: readonly BoxNode[];
}

/** One box and, for containers, its subtree; nesting limited to MAX_BOX_DEPTH. */
export function boxNode(b: Uint8Array, box: Box, depth: number, budget: BoxBudget): BoxNode {
  if (depth > MAX_BOX_DEPTH) throw malformed('boxes nested too deeply', { offset: box.start, depth });
  const kids: BoxNode[] = [];
  if (CONTAINERS.has(box.type)) forEachChild(b, box.payload, box.end, budget, (c) => kids.push(boxNode(b, c, depth + 1, budget)));
  return { ...box, depth, children: kids };
}

/** Full tree of the top-level boxes in [from, to). */
export function boxTree(b: Uint8Array, from = 0, to = b.length, budget = new BoxBudget()): BoxNode[] {
  const out: BoxNode[] = [];
  forEachChild(b, from, to, budget, (box) => out.push(boxNode(b, box, 0, budget)), true);
  return out;
}

/** First child of `node` of `type`, or a coded error naming the path. */
export function child(node: { readonly children: readonly BoxNode[]; readonly type?: string }, type: string): BoxNode {
  const found = node.children.find((c) => c.type === type);
  if (found === undefined) throw malformed(`missing ${type} box`, { parent: node.type ?? 'file' });
  return found;
}

/** Check a FullBox payload has at least `need` bytes after version/flags; return [version, flags]. */
export function fullBoxHeader(b: Uint8Array, box: Box, need: number): [number, number] {
  if (box.end - box.payload < 4 + need) throw malformed(`${box.type} box too short`, { offset: box.start });
  const v = b[box.payload] ?? 0;
  return [v, u32(b, box.payload) & 0xffffff];
}
