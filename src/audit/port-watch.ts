// Plug and unplug of physical ports is logged (NVR-5.1.2.1c, CAM-T-phys-3) and a cut network
// link raises an alarm (NVR-5.1.2.1a): the watcher reads the kernel's view in sysfs each tick —
// network interfaces (/sys/class/net: presence, operstate, carrier) and USB devices
// (/sys/bus/usb/devices) — and records every difference from the previous reading. Polling
// needs no privilege and no native code; where USB is not exposed (containers, some VMs) the
// watcher says so once at start instead of pretending. The first reading is the inventory.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { AlarmSink } from '../alarms/types.ts';
import type { Logger } from '../core/logger.ts';
import type { AuditSink } from './types.ts';

export interface PortWatchOptions {
  audit: AuditSink;
  alarms: AlarmSink;
  logger: Logger;
  /** sysfs mount point ('/sys'). */
  sysfsRoot: string;
  /**
   * Interfaces whose events are logged and whose link loss raises an alarm: names, or '*' for
   * every interface but loopback. Empty: every interface backed by a device (physical ports).
   */
  interfaces: readonly string[];
  /** Tick interval; 0 starts no timer (call tick()). */
  intervalMs: number;
}

export interface PortWatch {
  tick(): void;
  stop(): void;
}

interface InterfaceState {
  /** Link with carrier (operstate up). */
  up: boolean;
  operstate: string;
  mac: string;
}

interface UsbDevice {
  vendorId: string;
  productId: string;
  manufacturer: string;
  product: string;
  serial: string;
}

/** Bounds: a hostile or broken sysfs cannot grow the watcher's memory. */
const MAX_ENTRIES = 256;
const MAX_ATTRIBUTE_CHARS = 128;
/** USB devices are named bus-port[.port…]; interfaces (1-1:1.0) and root hubs (usb1) are not devices we report. */
const USB_DEVICE_NAME = /^\d+-\d+(\.\d+)*$/;

function attribute(file: string): string {
  try {
    // Printable ASCII only: these strings come from devices and go into the log.
    return readFileSync(file, 'utf8').trim().slice(0, MAX_ATTRIBUTE_CHARS).replace(/[^\x20-\x7e]/g, '?');
  } catch {
    return '';
  }
}

function list(dir: string): string[] | undefined {
  try {
    return readdirSync(dir).sort().slice(0, MAX_ENTRIES);
  } catch {
    return undefined;
  }
}

export function watchPorts(o: PortWatchOptions): PortWatch {
  const netDir = path.join(o.sysfsRoot, 'class/net');
  const usbDir = path.join(o.sysfsRoot, 'bus/usb/devices');
  const all = o.interfaces.includes('*');
  const watched = (name: string): boolean =>
    name !== 'lo' && (all || o.interfaces.includes(name) || (o.interfaces.length === 0 && existsSync(path.join(netDir, name, 'device'))));

  const readInterfaces = (): Map<string, InterfaceState> => {
    const out = new Map<string, InterfaceState>();
    for (const name of list(netDir) ?? []) {
      if (!watched(name)) continue;
      const operstate = attribute(path.join(netDir, name, 'operstate'));
      out.set(name, { up: operstate === 'up' && attribute(path.join(netDir, name, 'carrier')) === '1', operstate, mac: attribute(path.join(netDir, name, 'address')) });
    }
    return out;
  };
  const readUsb = (): Map<string, UsbDevice> | undefined => {
    const names = list(usbDir);
    if (names === undefined) return undefined;
    const out = new Map<string, UsbDevice>();
    for (const name of names) {
      if (!USB_DEVICE_NAME.test(name)) continue;
      const a = (f: string): string => attribute(path.join(usbDir, name, f));
      out.set(name, { vendorId: a('idVendor'), productId: a('idProduct'), manufacturer: a('manufacturer'), product: a('product'), serial: a('serial') });
    }
    return out;
  };

  const record = (action: string, target: string, details: Record<string, string | number | boolean>): void => {
    o.audit.record({ category: 'system', action, actor: 'system', source: 'local', target, outcome: 'success', details });
  };
  const linkAlarmKey = (name: string): string => `hardware.link_down|${name}`;

  let interfaces = readInterfaces();
  let usb = readUsb();
  // Ports down at start are listed, not alarmed: an unused socket is not a cut cable.
  record('hardware.inventory', 'ports', {
    interfaces: [...interfaces].map(([name, s]) => `${name}:${s.up ? 'up' : s.operstate || 'down'}`).join(',') || '(none watched)',
    usb: usb === undefined ? 'not visible on this system' : [...usb.keys()].join(',') || '(none)',
  });
  if (usb === undefined) o.logger.warn({ sysfs: usbDir }, 'USB devices are not visible here: USB plug/unplug cannot be logged');

  function raiseLinkDown(name: string, operstate: string): void {
    o.alarms.raise({ type: 'hardware.link_down', severity: 'warning', source: `interface:${name}`, message: `Network link ${name} is down (${operstate || 'unknown'})`, dedupeKey: linkAlarmKey(name), details: { interface: name, operstate } });
  }

  const tick = (): void => {
    const nextInterfaces = readInterfaces();
    for (const [name, now] of nextInterfaces) {
      const before = interfaces.get(name);
      if (before === undefined) record('hardware.interface_added', `interface:${name}`, { mac: now.mac, operstate: now.operstate });
      if (before?.up !== now.up) {
        if (now.up) {
          record('hardware.link_up', `interface:${name}`, { operstate: now.operstate });
          o.alarms.clear(linkAlarmKey(name), 'link up');
        } else if (before !== undefined) {
          record('hardware.link_down', `interface:${name}`, { operstate: now.operstate });
          raiseLinkDown(name, now.operstate);
        }
      }
    }
    for (const [name, before] of interfaces) {
      if (nextInterfaces.has(name)) continue;
      record('hardware.interface_removed', `interface:${name}`, { mac: before.mac });
      if (before.up) raiseLinkDown(name, 'removed');
    }
    interfaces = nextInterfaces;

    const nextUsb = readUsb();
    if (nextUsb !== undefined && usb !== undefined) {
      for (const [id, device] of nextUsb) {
        if (usb.has(id)) continue;
        record('hardware.usb_attached', `usb:${id}`, { ...device });
        o.alarms.raise({ type: 'hardware.usb_attached', severity: 'warning', source: `usb:${id}`, message: `USB device attached at ${id}: ${device.manufacturer} ${device.product} (${device.vendorId}:${device.productId})`, details: { ...device } });
      }
      for (const [id, device] of usb) if (!nextUsb.has(id)) record('hardware.usb_detached', `usb:${id}`, { ...device });
    }
    if (nextUsb !== undefined) usb = nextUsb;
  };

  const timer = o.intervalMs > 0 ? setInterval(tick, o.intervalMs).unref() : undefined;
  return {
    tick,
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
