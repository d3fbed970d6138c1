import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessUnitArena } from './access-unit-arena.ts';

/** A unit whose every byte tells which unit it is. */
const unit = (i: number, size: number): Buffer => Buffer.alloc(size, i & 0xff);

test('a copy keeps its bytes until the second turn after it, also across growth (fixed sizes, 40 fragments)', () => {
  const arena = new AccessUnitArena();
  const live: Array<{ i: number; copy: Buffer; turnsLeft: number }> = [];
  let i = 0;
  for (let fragment = 0; fragment < 40; fragment++) {
    // Fragments from 10 KiB to ~1.2 MiB, so the slots grow several times while copies are held.
    const units = 10 + (fragment % 7) * 5;
    const size = 1024 * (1 + (fragment % 5) * 8);
    for (let k = 0; k < units; k++, i++) live.push({ i, copy: arena.copy(unit(i, size)), turnsLeft: 2 });
    for (const l of live) assert.ok(l.copy.every((b) => b === (l.i & 0xff)), `unit ${l.i} was overwritten before it was written`);
    arena.turn();
    for (const l of live) l.turnsLeft--;
    live.splice(0, live.length, ...live.filter((l) => l.turnsLeft > 0));
  }
  assert.ok(arena.capacity <= 2 * 4 * 1024 * 1024, `bounded: ${arena.capacity}`);
});

test('the memory of a burst is given back once fragments are small again', () => {
  const arena = new AccessUnitArena();
  for (let k = 0; k < 12; k++) arena.copy(unit(k, 1024 * 1024)); // a 12 MiB fragment
  arena.turn();
  for (let k = 0; k < 12; k++) arena.copy(unit(k, 1024 * 1024));
  arena.turn();
  const burst = arena.capacity;
  for (let f = 0; f < 4; f++) {
    for (let k = 0; k < 30; k++) arena.copy(unit(k, 16 * 1024));
    arena.turn();
  }
  assert.ok(arena.capacity < burst / 4, `${arena.capacity} of ${burst} bytes still held`);
});
