// A read-only SNMPv3 agent for the system group (RFC 3418 §2: sysDescr, sysObjectID, sysUpTime,
// sysContact, sysName, sysLocation, sysServices), on net-snmp's Agent. Security (CAM-T-com-2,
// NVR-5.3.2.1a): no community is configured, so every SNMPv1/v2c message is dropped unanswered
// (net-snmp's authorizer refuses an unknown community before any processing); the one USM user
// is authPriv (HMAC-SHA-2, RFC 7860; AES-128-CFB, RFC 3826) and has read-only access in the
// access-control model; any other user gets only the RFC 3414 Reports (engine discovery,
// unknown user), which carry no MIB data. net-snmp opens its own socket; we hand it a socket
// façade (its documented `dgramModule` option) fed by our UdpResponder, so the same size bound,
// per-source rate limit and malformed counter apply, and port 0 works.
import { EventEmitter } from 'node:events';
import snmp from 'net-snmp';

/** RFC 3417 §3.2: agents must accept 484-byte messages; our system-group requests are small. */
export const SNMP_MAX_BYTES = 1472;

export type SnmpAuthProtocol = 'sha256' | 'sha512';
export type SnmpPrivProtocol = 'aes128';

export interface SnmpV3User {
  username: string;
  authProtocol: SnmpAuthProtocol;
  privProtocol: SnmpPrivProtocol;
  authPassphrase: string;
  privPassphrase: string;
}

export interface SystemGroup {
  sysDescr: string;
  sysName: string;
  sysContact: string;
  sysLocation: string;
  /** Milliseconds since the agent started, for sysUpTime (hundredths of a second). */
  uptimeMs: () => number;
}

/** The parts of net-snmp's untyped Agent that we use. */
interface NetSnmpAgent {
  getAuthorizer(): {
    addUser(user: { name: string; level: number; authProtocol: number; authKey: string; privProtocol: number; privKey: string }): void;
    getAccessControlModel(): { setUserAccess(name: string, level: number): void };
  };
  registerProvider(provider: Record<string, unknown>): void;
  getMib(): { setScalarValue(name: string, value: string | number): void };
  close(): void;
}

/** What net-snmp's Listener calls on a dgram socket: bind, on, send, close, address. */
class ResponderSocket extends EventEmitter {
  readonly #send: (datagram: Buffer, port: number, address: string) => void;
  constructor(send: (datagram: Buffer, port: number, address: string) => void) {
    super();
    this.#send = send;
  }
  bind(): this {
    return this; // bound already: the UdpResponder owns the real socket
  }
  send(buffer: Buffer, offset: number, length: number, port: number, address: string, callback?: (error: Error | null, bytes: number) => void): void {
    // Only ever an answer to the source of a request that passed the responder's bounds.
    this.#send(buffer.subarray(offset, offset + length), port, address);
    callback?.(null, length);
  }
  close(callback?: () => void): void {
    this.removeAllListeners('message');
    callback?.();
  }
  address(): { address: string; port: number } {
    return { address: '', port: 0 };
  }
}

const AUTH: Record<SnmpAuthProtocol, number> = { sha256: snmp.AuthProtocols.sha256, sha512: snmp.AuthProtocols.sha512 };
const PRIV: Record<SnmpPrivProtocol, number> = { aes128: snmp.PrivProtocols.aes };

/** RFC 3418 system group scalars (OID 1.3.6.1.2.1.1.N), all read-only. */
const SYSTEM_SCALARS: ReadonlyArray<{ name: keyof SystemGroup | 'sysObjectID' | 'sysServices' | 'sysUpTime'; n: number; type: number }> = [
  { name: 'sysDescr', n: 1, type: snmp.ObjectType.OctetString },
  { name: 'sysObjectID', n: 2, type: snmp.ObjectType.OID },
  { name: 'sysUpTime', n: 3, type: snmp.ObjectType.TimeTicks },
  { name: 'sysContact', n: 4, type: snmp.ObjectType.OctetString },
  { name: 'sysName', n: 5, type: snmp.ObjectType.OctetString },
  { name: 'sysLocation', n: 6, type: snmp.ObjectType.OctetString },
  { name: 'sysServices', n: 7, type: snmp.ObjectType.Integer },
];

/**
 * Builds the agent on a started UdpResponder's datagrams. Returns the handler to install on the
 * responder and a close function. `engineId`: hex, persistent per device (RFC 3411 §5).
 */
export function createSnmpAgent(o: { user: SnmpV3User; system: SystemGroup; engineId: string; onRefused: () => void; send: (datagram: Buffer, port: number, address: string) => void }): {
  handle: (datagram: Buffer, source: { address: string; port: number }) => void;
  close: () => void;
} {
  const sockets: ResponderSocket[] = [];
  const dgramModule = {
    createSocket: (): ResponderSocket => {
      const s = new ResponderSocket((datagram, port, address) => o.send(Buffer.from(datagram), port, address));
      sockets.push(s);
      return s;
    },
  };
  // Errors reach this callback: unknown communities (every v1/v2c message), bad digests,
  // undecodable input. They are counted, never logged per packet.
  const agent = snmp.createAgent(
    { port: 161, disableAuthorization: false, accessControlModelType: snmp.AccessControlModelType.Simple, engineID: o.engineId, dgramModule },
    (error: unknown) => {
      if (error !== null && error !== undefined) o.onRefused();
    },
  ) as NetSnmpAgent;
  const authorizer = agent.getAuthorizer();
  authorizer.addUser({
    name: o.user.username,
    level: snmp.SecurityLevel.authPriv,
    authProtocol: AUTH[o.user.authProtocol],
    authKey: o.user.authPassphrase,
    privProtocol: PRIV[o.user.privProtocol],
    privKey: o.user.privPassphrase,
  });
  authorizer.getAccessControlModel().setUserAccess(o.user.username, snmp.AccessLevel.ReadOnly);
  const mib = agent.getMib();
  for (const s of SYSTEM_SCALARS) {
    agent.registerProvider({
      name: s.name,
      type: snmp.MibProviderType.Scalar,
      oid: `1.3.6.1.2.1.1.${s.n}`,
      scalarType: s.type,
      maxAccess: snmp.MaxAccess['read-only'],
      ...(s.name === 'sysUpTime'
        ? { handler: (request: { done: () => void }) => {
            mib.setScalarValue('sysUpTime', Math.floor(o.system.uptimeMs() / 10) % 2 ** 32);
            request.done();
          } }
        : {}),
    });
  }
  mib.setScalarValue('sysDescr', o.system.sysDescr);
  // No private enterprise number is assigned to Vigil: zeroDotZero (RFC 2578 §2) says "unknown".
  mib.setScalarValue('sysObjectID', '0.0');
  mib.setScalarValue('sysUpTime', 0);
  mib.setScalarValue('sysContact', o.system.sysContact);
  mib.setScalarValue('sysName', o.system.sysName);
  mib.setScalarValue('sysLocation', o.system.sysLocation);
  // RFC 3418: layers 4 (end-to-end) and 7 (applications) → 2^3 + 2^6.
  mib.setScalarValue('sysServices', 72);
  return {
    handle: (datagram, source) => {
      for (const s of sockets) s.emit('message', datagram, { address: source.address, port: source.port, family: source.address.includes(':') ? 'IPv6' : 'IPv4', size: datagram.length });
    },
    close: () => agent.close(),
  };
}
