// Plug/unplug logging with real links (NVR-5.1.2.1c, CAM-T-phys-3; NVR-5.1.2.1a for the cut
// link): the real `vigil` process runs in a network namespace of its own, a veth pair is taken
// down and up, and a new pair is plugged in; the signed audit export read back afterwards holds
// each event and the raised and cleared link alarm. Needs root and iproute2 (the CI runs as root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runVigil, startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { requireTool, runTool } from '../helpers/tools.ts';

const NS = `vigil-ports-${process.pid}`;

interface ExportedEvent { action?: string; target?: string; details?: Record<string, unknown> }

describe('port watch in a network namespace (real process, real links)', () => {
  let ip = '';
  let vigil: VigilProcess | undefined;
  const inNs = async (...args: string[]): Promise<void> => {
    const r = await runTool(ip, ['netns', 'exec', NS, 'ip', ...args], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };

  before(async () => {
    ip = requireTool('ip', 'iproute2');
    const added = await runTool(ip, ['netns', 'add', NS]);
    assert.equal(added.code, 0, `creating a network namespace needs root: ${added.stderr}`);
    await inNs('link', 'set', 'lo', 'up');
    await inNs('link', 'add', 'vga', 'type', 'veth', 'peer', 'name', 'vgb');
    await inNs('link', 'set', 'vga', 'up');
    await inNs('link', 'set', 'vgb', 'up');
  });
  after(async () => {
    await vigil?.dispose();
    await runTool(ip, ['netns', 'del', NS]);
  });

  test('link down/up and a new interface are audited; the cut link raises an alarm that clears', async () => {
    vigil = await startVigil({ wrap: [ip, 'netns', 'exec', NS], config: { hardware: { pollSeconds: 1, interfaces: ['*'] } } });
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 2500));
    await inNs('link', 'set', 'vgb', 'down'); // the peer going away cuts vga's carrier
    await settle();
    await inNs('link', 'set', 'vgb', 'up');
    await settle();
    await inNs('link', 'add', 'vgc', 'type', 'veth', 'peer', 'name', 'vgd');
    await settle();
    assert.equal(await vigil.stop(), 0);

    const out = path.join(vigil.dir, 'audit.jsonl');
    const exported = await runVigil(['audit', 'export', '--out', out, '--config', vigil.configFile]);
    assert.equal(exported.code, 0, exported.stderr);
    const events = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ExportedEvent);
    const seen = events.map((e) => `${e.action ?? ''} ${e.target ?? ''}`);
    const inventory = events.find((e) => e.action === 'hardware.inventory');
    assert.match(String(inventory?.details?.['interfaces']), /vga:up/);
    for (const expected of ['hardware.link_down interface:vga', 'hardware.link_up interface:vga', 'hardware.interface_added interface:vgc', 'hardware.interface_added interface:vgd']) {
      assert.ok(seen.includes(expected), `${expected} in ${JSON.stringify(seen.filter((s) => s.startsWith('hardware') || s.startsWith('alarm')))}`);
    }
    const order = (action: string): number => seen.indexOf(action);
    assert.ok(order('hardware.link_down interface:vga') < order('hardware.link_up interface:vga'));
    const raised = events.find((e) => e.action === 'alarm.raise' && e.details?.['type'] === 'hardware.link_down');
    assert.ok(raised !== undefined, 'the cut link raised an alarm');
    assert.ok(events.some((e) => e.action === 'alarm.clear' && e.target === raised.target), 'and the link coming back cleared it');
  });
});
