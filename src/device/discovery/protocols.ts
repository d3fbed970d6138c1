// The discovery protocols an administrator can turn on (NVR-5.3.2.1a, CAM-5.3.2.2,
// CAM-T-com-2). All are off on a fresh install; the state lives in the store, never in the
// configuration file, so the toggle takes effect at once and is audited.

export const DISCOVERY_PROTOCOLS = ['ws-discovery', 'ssdp', 'mdns', 'snmp'] as const;
export type DiscoveryProtocol = (typeof DISCOVERY_PROTOCOLS)[number];

/** Which protocols are on right now. */
export type DiscoveryToggles = Readonly<Record<DiscoveryProtocol, boolean>>;

/** A fresh install: nothing answers. */
export const DISCOVERY_OFF: DiscoveryToggles = Object.freeze({ 'ws-discovery': false, ssdp: false, mdns: false, snmp: false });

export function isDiscoveryProtocol(value: string): value is DiscoveryProtocol {
  return (DISCOVERY_PROTOCOLS as readonly string[]).includes(value);
}
