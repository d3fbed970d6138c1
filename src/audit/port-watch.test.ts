// Plug/unplug logging (NVR-5.1.2.1c, CAM-T-phys-3) and link-loss alarms (NVR-5.1.2.1a) against a
// sysfs tree laid out as the kernel does; test/e2e/port-watch.test.ts drives real links.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingAlarmSink, RecordingAuditSink, silentLogger } from './test-doubles.ts';
import { watchPorts } from './port-watch.ts';

let sys = '';
beforeEach(() => {
  sys = mkdtempSync(path.join(tmpdir(), 'vigil-sysfs-'));
});
afterEach(() => rmSync(sys, { recursive: true, force: true }));

function link(name: string, state: { up: boolean; physical?: boolean }): void {
  const dir = path.join(sys, 'class/net', name);
  mkdirSync(dir, { recursive: true });
  if (state.physical ?? true) mkdirSync(path.join(dir, 'device'), { recursive: true });
  writeFileSync(path.join(dir, 'operstate'), state.up ? 'up\n' : 'down\n');
  writeFileSync(path.join(dir, 'carrier'), state.up ? '1\n' : '0\n');
  writeFileSync(path.join(dir, 'address'), '02:00:00:00:00:01\n');
}

function usb(id: string, product: string): void {
  const dir = path.join(sys, 'bus/usb/devices', id);
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of [['idVendor', '0781'], ['idProduct', '5581'], ['manufacturer', 'SanDisk'], ['product', product], ['serial', '4C53000\x01']]) writeFileSync(path.join(dir, f ?? ''), `${v ?? ''}\n`);
}

function start(interfaces: string[] = []) {
  const audit = new RecordingAuditSink();
  const alarms = new RecordingAlarmSink();
  const watch = watchPorts({ audit, alarms, logger: silentLogger(), sysfsRoot: sys, interfaces, intervalMs: 0 });
  const actions = (): string[] => audit.events.map((e) => `${e.action} ${e.target}`);
  return { audit, alarms, watch, actions };
}

test('the first reading is the inventory: physical ports only by default, down ports listed but not alarmed', () => {
  link('lo', { up: true, physical: false });
  link('eth0', { up: true });
  link('eth1', { up: false });
  link('docker0', { up: true, physical: false });
  mkdirSync(path.join(sys, 'bus/usb/devices/usb1'), { recursive: true }); // a root hub: not a device
  usb('1-1', 'Cruzer');
  const { audit, alarms } = start();
  assert.equal(audit.events.length, 1);
  assert.deepEqual(audit.events[0]?.details, { interfaces: 'eth0:up,eth1:down', usb: '1-1' });
  assert.equal(alarms.raised.length, 0);
});

test('link down raises an alarm naming the port, link up clears it; every change is audited', () => {
  link('eth0', { up: true });
  const { alarms, watch, actions } = start();
  link('eth0', { up: false });
  watch.tick();
  watch.tick(); // no change, no new event
  assert.deepEqual(actions().slice(1), ['hardware.link_down interface:eth0']);
  assert.deepEqual(alarms.raised.map((a) => [a.type, a.source, a.dedupeKey]), [['hardware.link_down', 'interface:eth0', 'hardware.link_down|eth0']]);
  link('eth0', { up: true });
  watch.tick();
  assert.deepEqual(actions().slice(1), ['hardware.link_down interface:eth0', 'hardware.link_up interface:eth0']);
  assert.deepEqual(alarms.cleared, [{ dedupeKey: 'hardware.link_down|eth0', reason: 'link up' }]);
});

test('an interface plugged in and removed is audited; a removed live link is also a cut link', () => {
  const { alarms, watch, actions } = start(['*']);
  link('usb-eth0', { up: true, physical: false });
  watch.tick();
  rmSync(path.join(sys, 'class/net/usb-eth0'), { recursive: true });
  watch.tick();
  assert.deepEqual(actions().slice(1), ['hardware.interface_added interface:usb-eth0', 'hardware.link_up interface:usb-eth0', 'hardware.interface_removed interface:usb-eth0']);
  assert.deepEqual(alarms.raised.map((a) => a.details?.['operstate']), ['removed']);
});

test('USB attach raises a warning and detach is audited, with the device identity (control characters neutralised)', () => {
  mkdirSync(path.join(sys, 'bus/usb/devices'), { recursive: true });
  const { audit, alarms, watch, actions } = start();
  usb('2-1.4', 'Cruzer Blade');
  mkdirSync(path.join(sys, 'bus/usb/devices/2-1.4:1.0'), { recursive: true }); // its interface: ignored
  watch.tick();
  rmSync(path.join(sys, 'bus/usb/devices/2-1.4'), { recursive: true });
  watch.tick();
  assert.deepEqual(actions().slice(1), ['hardware.usb_attached usb:2-1.4', 'hardware.usb_detached usb:2-1.4']);
  assert.deepEqual(audit.events[1]?.details, { vendorId: '0781', productId: '5581', manufacturer: 'SanDisk', product: 'Cruzer Blade', serial: '4C53000?' });
  assert.equal(alarms.raised[0]?.type, 'hardware.usb_attached');
  assert.match(alarms.raised[0]?.message ?? '', /SanDisk Cruzer Blade \(0781:5581\)/);
});

test('where sysfs shows no USB bus, the inventory says so instead of claiming none', () => {
  const { audit, watch } = start();
  watch.tick();
  assert.equal(audit.events[0]?.details?.['usb'], 'not visible on this system');
  assert.equal(audit.events.length, 1);
});
