// The rules of device discovery (NVR-5.3.2.1a, CAM-5.3.2.2, CAM-T-com-2): every protocol is off
// until an administrator turns it on; each change takes effect at once (the responder starts or
// stops) and is audited with who, from where, and old → new. WS-Discovery needs the camera role
// (it points at the ONVIF device service). SNMP runs only as SNMPv3 authPriv with an
// administrator-set user whose passphrases pass the password policy and are sealed at rest;
// they are never returned, logged or audited.
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { VigilError } from '../../core/errors.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { SecretSealer } from '../../identity/types.ts';
import { checkPasswordPolicy, PASSWORD_RULES } from '../../identity/password-policy.ts';
import type { DiscoveryRepository } from './discovery-repository.ts';
import type { DiscoveryResponders } from './discovery-responders.ts';
import { DISCOVERY_OFF, DISCOVERY_PROTOCOLS, type DiscoveryProtocol, type DiscoveryToggles } from './protocols.ts';
import type { SnmpAuthProtocol, SnmpPrivProtocol, SnmpV3User } from './snmp-agent.ts';

const SEAL_PURPOSE = 'discovery.snmp-v3';
export const SNMP_AUTH_PROTOCOLS: readonly SnmpAuthProtocol[] = ['sha256', 'sha512'];
export const SNMP_PRIV_PROTOCOLS: readonly SnmpPrivProtocol[] = ['aes128'];

export interface Actor {
  /** 'user:<name>' */
  actor: string;
  source: string;
}

export interface ProtocolState {
  protocol: DiscoveryProtocol;
  enabled: boolean;
  /** Whether it answers right now (its responder is bound). */
  listening: boolean;
  port: number | null;
  /** Why it cannot be turned on here, if it cannot. */
  unavailable: string | null;
}

export interface DiscoveryState {
  protocols: ProtocolState[];
  snmpUser: { username: string; authProtocol: string; privProtocol: string } | null;
}

export interface SnmpUserInput {
  username: string;
  authProtocol: SnmpAuthProtocol;
  privProtocol: SnmpPrivProtocol;
  authPassphrase: string;
  privPassphrase: string;
}

export class DiscoveryService {
  readonly #repository: DiscoveryRepository;
  readonly #sealer: SecretSealer;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #responders: DiscoveryResponders;
  readonly #cameraRole: boolean;
  readonly #logger: Logger;
  #toggles: DiscoveryToggles = DISCOVERY_OFF;
  /** One change at a time: a toggle and its responder start/stop stay together. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(o: { repository: DiscoveryRepository; sealer: SecretSealer; audit: AuditSink; clock: Clock; responders: DiscoveryResponders; cameraRole: boolean; logger: Logger }) {
    this.#repository = o.repository;
    this.#sealer = o.sealer;
    this.#audit = o.audit;
    this.#clock = o.clock;
    this.#responders = o.responders;
    this.#cameraRole = o.cameraRole;
    this.#logger = o.logger;
  }

  get responders(): DiscoveryResponders {
    return this.#responders;
  }

  /** Loads the stored toggles; with the network attached, starts what is on. */
  async load(): Promise<void> {
    this.#toggles = await this.#repository.toggles();
    if (!this.#responders.attached) return;
    for (const p of DISCOVERY_PROTOCOLS) {
      if (!this.#toggles[p] || this.#unavailable(p) !== null) continue;
      try {
        await this.#responders.start(p, p === 'snmp' ? await this.#snmpUser() : undefined);
      } catch (err) {
        // The toggle stays on (the administrator's choice); the state shows it is not listening.
        this.#logger.error({ err, protocol: p }, 'discovery responder could not start');
        this.#audit.record({ category: 'system', action: 'discovery.start', actor: 'system', source: 'local', target: `discovery:${p}`, outcome: 'failure', details: { reason: err instanceof VigilError ? err.message : 'error' } });
      }
    }
  }

  /** What is on now: the declared-services table reads this (src/docs/services.ts). */
  toggles(): DiscoveryToggles {
    const on: Record<DiscoveryProtocol, boolean> = { ...DISCOVERY_OFF };
    for (const p of DISCOVERY_PROTOCOLS) on[p] = this.#toggles[p] && (!this.#responders.attached || this.#responders.port(p) !== undefined);
    return on;
  }

  port(protocol: DiscoveryProtocol): number | undefined {
    return this.#responders.port(protocol);
  }

  #unavailable(p: DiscoveryProtocol): string | null {
    if (p === 'ws-discovery' && !this.#cameraRole) return 'WS-Discovery announces the ONVIF device service: it needs the camera role (camera.enabled)';
    return null;
  }

  async state(): Promise<DiscoveryState> {
    const user = await this.#repository.snmpUser();
    return {
      protocols: DISCOVERY_PROTOCOLS.map((p) => {
        const port = this.#responders.port(p);
        return { protocol: p, enabled: this.#toggles[p], listening: port !== undefined, port: port ?? null, unavailable: this.#unavailable(p) };
      }),
      snmpUser: user === undefined ? null : { username: user.username, authProtocol: user.authProtocol, privProtocol: user.privProtocol },
    };
  }

  /** Turns protocols on or off; each real change is applied live and audited. */
  setProtocols(changes: Partial<Record<DiscoveryProtocol, boolean>>, who: Actor): Promise<DiscoveryState> {
    return this.#serial(async () => {
      for (const p of DISCOVERY_PROTOCOLS) {
        const wanted = changes[p];
        if (wanted === undefined || wanted === this.#toggles[p]) continue;
        if (wanted) {
          const reason = this.#unavailable(p);
          if (reason !== null) throw new VigilError('VIGIL_DISCOVERY_UNAVAILABLE', reason, { details: { protocol: p } });
          if (p === 'snmp' && (await this.#repository.snmpUser()) === undefined) {
            throw new VigilError('VIGIL_DISCOVERY_SNMP_USER_REQUIRED', 'set the SNMPv3 user (authPriv) before turning SNMP on: SNMP never runs with community strings', { details: { protocol: p } });
          }
        }
      }
      for (const p of DISCOVERY_PROTOCOLS) {
        const wanted = changes[p];
        const old = this.#toggles[p];
        if (wanted === undefined || wanted === old) continue;
        try {
          if (wanted) await this.#responders.start(p, p === 'snmp' ? await this.#snmpUser() : undefined);
          else await this.#responders.stop(p);
        } catch (err) {
          this.#record(who, 'discovery.toggle', p, 'failure', { from: old, to: wanted, reason: err instanceof VigilError ? err.message : 'error' });
          throw err;
        }
        await this.#repository.setToggle(p, wanted, who.actor, this.#clock.now());
        this.#toggles = { ...this.#toggles, [p]: wanted };
        this.#record(who, 'discovery.toggle', p, 'success', { from: old, to: wanted });
      }
      return this.state();
    });
  }

  /** Sets (replaces) the SNMPv3 user; a running agent restarts with it at once. */
  setSnmpUser(input: SnmpUserInput, who: Actor): Promise<DiscoveryState> {
    return this.#serial(async () => {
      const problems = snmpUserProblems(input);
      if (problems.length > 0) {
        this.#record(who, 'discovery.snmp_user.set', 'snmp', 'failure', { username: input.username.slice(0, 32), reason: problems.join('; ') });
        throw new VigilError('VIGIL_DISCOVERY_SNMP_USER_INVALID', `SNMPv3 user refused: ${problems.join('; ')}`, { details: { problems } });
      }
      const sealed = await this.#sealer.seal(SEAL_PURPOSE, JSON.stringify({ auth: input.authPassphrase, priv: input.privPassphrase }), input.username);
      await this.#repository.replaceSnmpUser({ username: input.username, authProtocol: input.authProtocol, privProtocol: input.privProtocol, sealedPassphrases: sealed }, this.#clock.now());
      this.#record(who, 'discovery.snmp_user.set', 'snmp', 'success', { username: input.username, authProtocol: input.authProtocol, privProtocol: input.privProtocol });
      if (this.#responders.port('snmp') !== undefined) {
        await this.#responders.stop('snmp');
        await this.#responders.start('snmp', await this.#snmpUser());
      }
      return this.state();
    });
  }

  /** Removes the SNMPv3 user; SNMP is turned off first (it cannot run without one). */
  deleteSnmpUser(who: Actor): Promise<DiscoveryState> {
    return this.#serial(async () => {
      if (this.#toggles.snmp) {
        await this.#responders.stop('snmp');
        await this.#repository.setToggle('snmp', false, who.actor, this.#clock.now());
        this.#toggles = { ...this.#toggles, snmp: false };
        this.#record(who, 'discovery.toggle', 'snmp', 'success', { from: true, to: false });
      }
      await this.#repository.deleteSnmpUser();
      this.#record(who, 'discovery.snmp_user.delete', 'snmp', 'success', {});
      return this.state();
    });
  }

  async close(): Promise<void> {
    await this.#responders.close();
  }

  async #snmpUser(): Promise<SnmpV3User | undefined> {
    const stored = await this.#repository.snmpUser();
    if (stored === undefined) return undefined;
    const opened = await this.#sealer.open(SEAL_PURPOSE, stored.sealedPassphrases, stored.username);
    try {
      const parsed = JSON.parse(opened.toString('utf8')) as { auth?: unknown; priv?: unknown };
      if (typeof parsed.auth !== 'string' || typeof parsed.priv !== 'string') throw new VigilError('VIGIL_CRYPTO_OPEN_FAILED', 'stored SNMPv3 user is unreadable');
      const auth = SNMP_AUTH_PROTOCOLS.find((a) => a === stored.authProtocol) ?? 'sha512';
      const priv = SNMP_PRIV_PROTOCOLS.find((a) => a === stored.privProtocol) ?? 'aes128';
      return { username: stored.username, authProtocol: auth, privProtocol: priv, authPassphrase: parsed.auth, privPassphrase: parsed.priv };
    } finally {
      opened.fill(0);
    }
  }

  #record(who: Actor, action: string, protocol: DiscoveryProtocol, outcome: 'success' | 'failure', details: Record<string, string | number | boolean | null>): void {
    this.#audit.record({ category: 'config', action, actor: who.actor, source: who.source, target: `discovery:${protocol}`, outcome, details: { protocol, ...details } });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** The rules an SNMPv3 user must meet; empty when it passes. */
export function snmpUserProblems(u: SnmpUserInput): string[] {
  const problems: string[] = [];
  // RFC 3411 SnmpAdminString, kept to a portable subset: tools and MIBs show it verbatim.
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(u.username)) problems.push('username: 1–32 characters of A–Z, a–z, 0–9, . _ -');
  if (!SNMP_AUTH_PROTOCOLS.includes(u.authProtocol)) problems.push(`authProtocol: one of ${SNMP_AUTH_PROTOCOLS.join(', ')}`);
  if (!SNMP_PRIV_PROTOCOLS.includes(u.privProtocol)) problems.push(`privProtocol: one of ${SNMP_PRIV_PROTOCOLS.join(', ')}`);
  for (const [name, value] of [['authPassphrase', u.authPassphrase], ['privPassphrase', u.privPassphrase]] as const) {
    // Printable ASCII: passphrases are typed into other vendors' SNMP managers.
    if (!/^[\x20-\x7e]*$/.test(value)) problems.push(`${name}: printable ASCII only`);
    for (const rule of checkPasswordPolicy({ password: value, username: u.username.toLowerCase(), minLength: 12 })) problems.push(`${name}: ${PASSWORD_RULES[rule]}`);
  }
  if (u.authPassphrase === u.privPassphrase) problems.push('authPassphrase and privPassphrase must differ');
  return problems;
}
