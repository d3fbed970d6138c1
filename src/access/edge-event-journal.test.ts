// The edge event journal (ACS-5.4.2.3, ACS-5.4.1.2): a log reopened from disk continues its chain
// where it stopped; acknowledged events leave the file; a torn last line (power cut mid-append)
// is forgiven, while an edited, removed or foreign-key event refuses the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isVigilError } from '../core/errors.ts';
import { EdgeEventJournal } from './edge-event-journal.ts';
import { EdgeEventLog } from './edge-event-log.ts';

function openLog(file: string, key: Buffer, capacity = 100): { log: EdgeEventLog; journal: EdgeEventJournal } {
  const { journal, restored } = EdgeEventJournal.open(file, capacity);
  return { log: new EdgeEventLog(key, capacity, { sink: journal, restored }), journal };
}

const decision = (doorId: string) => ({ at: new Date(0).toISOString(), type: 'access.denied', doorId, subject: '', reason: 'unknown credential' });
const tampered = (err: unknown): boolean => isVigilError(err, 'VIGIL_EDGE_LOG_TAMPERED');

test('ACS-5.4.2.3: reopened after a restart, the log holds what was not forwarded and continues the chain', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-journal-'));
  try {
    const file = path.join(dir, 'events.journal');
    const key = randomBytes(32);
    const a = openLog(file, key);
    for (const door of ['door:1', 'door:2', 'door:3']) a.log.append(decision(door));
    a.log.acknowledge(1);
    a.journal.close();
    // ':' is in neither hex nor base64: a door id can only show up on disk unsealed.
    const onDisk = readFileSync(file, 'utf8');
    assert.ok(!onDisk.includes('door:') && !onDisk.includes('unknown credential'), 'sealed on disk');

    const b = openLog(file, key);
    assert.deepEqual(b.log.export().map((e) => [e.seq, e.doorId]), [[2, 'door:2'], [3, 'door:3']]);
    b.log.append(decision('door:4'));
    assert.deepEqual(b.log.export().map((e) => e.seq), [2, 3, 4], 'seq continues, chain verifies across the restart');
    b.log.acknowledge(4);
    b.journal.close();
    const c = openLog(file, key);
    assert.equal(c.log.stored.length, 0);
    assert.equal(c.log.append(decision('door:5')).seq, 5, 'head kept after everything was acknowledged');
    c.journal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last line is dropped; an edited or removed event, or another key, refuses the log', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-journal-'));
  try {
    const file = path.join(dir, 'events.journal');
    const key = randomBytes(32);
    const a = openLog(file, key);
    for (const door of ['door:1', 'door:2', 'door:3']) a.log.append(decision(door));
    a.journal.close();
    const good = readFileSync(file, 'utf8');

    appendFileSync(file, '{"seq":4,"prevHash":"');
    const torn = openLog(file, key);
    assert.equal(torn.log.stored.length, 3, 'the torn append was never acted on');
    torn.journal.close();

    const lines = good.trim().split('\n');
    writeFileSync(file, [lines[0], lines[1], lines[3]].join('\n') + '\n');
    assert.throws(() => openLog(file, key), tampered, 'a removed event');
    const edited = lines.map((l, i) => (i === 2 ? l.replace(/"sealed":"(.)/, (_m, ch: string) => `"sealed":"${ch === 'A' ? 'B' : 'A'}`) : l));
    writeFileSync(file, edited.join('\n') + '\n');
    assert.throws(() => openLog(file, key), tampered, 'an edited event');
    writeFileSync(file, good);
    assert.throws(() => openLog(file, randomBytes(32)), tampered, 'a journal from another device');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
