// The ONVIF Profile S subset of the camera role (issue #9): device and media service operations
// over SOAP 1.2, behind WS-Security UsernameToken with Vigil accounts (CAM-T-auth-1/4/5).
// Only GetSystemDateAndTime answers before authentication (ONVIF Core §5.9.4.3: a client needs
// the device time to build a UsernameToken). Every other operation needs a valid token and a
// Vigil permission: system.read for device facts, users.read for GetUsers, camera.view for
// media. Every request, answered or refused, is audited; authentication outcomes also go to the
// shared lockout. Faults never carry a user name, a stack or an internal message.
import { networkInterfaces as osInterfaces } from 'node:os';
import type { AuditEventInput, AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Permission } from '../../identity/permissions.ts';
import type { RequestContext, UserView } from '../../identity/types.ts';
import * as device from './device-responses.ts';
import * as media from './media-responses.ts';
import type { OnvifAccounts } from './onvif-accounts.ts';
import { SoapFault, operationChild, operationText, parseSoapRequest, soapEnvelope, soapFaultXml, type SoapRequest, type XmlNode } from './soap.ts';

export type OnvifEndpoint = 'device' | 'media';

export const ONVIF_PATHS: Readonly<Record<OnvifEndpoint, string>> = { device: '/onvif/device_service', media: '/onvif/media_service' };
/** GetSnapshotUri's target on the same HTTPS server: HTTP Digest, not WS-Security (src/camera/snapshot.ts). */
export const SNAPSHOT_PATH = '/onvif/snapshot';

/** The parts of the identity service ONVIF uses (IdentityService satisfies it). */
export interface OnvifIdentity {
  userHasPermission(username: string, permission: Permission): Promise<boolean>;
  externalLoginResult(username: string, ok: boolean, ctx: RequestContext, via: string): Promise<void>;
  listUsers(page?: { limit?: number; offset?: number }): Promise<UserView[]>;
}

export interface OnvifServiceOptions {
  accounts: Pick<OnvifAccounts, 'authenticate'>;
  identity: OnvifIdentity;
  audit: AuditSink;
  clock: Clock;
  device: device.DeviceFacts;
  encoder: media.EncoderFacts;
  /** The address the API listens on (what GetNetworkInterfaces describes). */
  listenHost: string;
  /** https://host:port as clients reach the API (the XAddrs). */
  origin(): string;
  /** The API port is configured (not 0): URIs on it survive a restart. */
  originFixed: boolean;
  /** The RTSPS stream URI once the camera role listens; fixedPort: the same after a restart. */
  stream(): { uri: string; fixedPort: boolean } | undefined;
}

export interface OnvifCall {
  sourceIp: string;
  /** Arrived over TLS: PasswordText is only checked then. */
  secure: boolean;
}

export interface OnvifAnswer {
  status: number;
  xml: string;
}

interface Operation {
  access: 'pre-auth' | Permission;
  run(request: SoapRequest): string | Promise<string>;
}

/** What the audit event of one request says. */
interface RequestEvent {
  service: OnvifEndpoint;
  operation: string;
  actor: string;
  reason: string;
  sourceIp: string;
}

const GET_USERS_MAX = 100;

const notAuthorized = (): SoapFault => new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized');
/** CreateUsers, DeleteUsers, SetUser: one account base, changed where it is audited and policed. */
function usersManagedInVigil(): never {
  throw new SoapFault('Receiver', 'ter:ActionNotSupported', 'Users are managed in Vigil (web interface or API), not through ONVIF');
}

export function onvifUserLevel(user: Pick<UserView, 'grants'>): device.OnvifUserLevel {
  if (user.grants.some((g) => g.role === 'administrator' && g.scopeKind === 'global')) return 'Administrator';
  if (user.grants.some((g) => g.role === 'operator' || g.role === 'installer')) return 'Operator';
  return 'User';
}

export class OnvifService {
  readonly #o: OnvifServiceOptions;
  readonly #operations: Readonly<Record<OnvifEndpoint, Readonly<Record<string, Operation>>>>;

  constructor(options: OnvifServiceOptions) {
    this.#o = options;
    const e = options.encoder;
    this.#operations = {
      device: {
        GetSystemDateAndTime: { access: 'pre-auth', run: () => device.systemDateAndTime(this.#o.clock.now()) },
        GetDeviceInformation: { access: 'system.read', run: () => device.deviceInformation(this.#o.device) },
        GetCapabilities: { access: 'system.read', run: () => device.capabilities(this.#endpoints()) },
        GetServices: { access: 'system.read', run: () => device.services(this.#endpoints()) },
        GetNetworkInterfaces: { access: 'system.read', run: () => device.networkInterfaces(this.#interfaces()) },
        GetUsers: { access: 'users.read', run: async () => device.users((await this.#o.identity.listUsers({ limit: GET_USERS_MAX })).map((u) => ({ username: u.username, level: onvifUserLevel(u) }))) },
        CreateUsers: { access: 'users.manage', run: usersManagedInVigil },
        DeleteUsers: { access: 'users.manage', run: usersManagedInVigil },
        SetUser: { access: 'users.manage', run: usersManagedInVigil },
      },
      media: {
        GetProfiles: { access: 'camera.view', run: () => media.profiles(e) },
        GetProfile: {
          access: 'camera.view',
          run: (r) => {
            requireToken(r.body, 'ProfileToken', media.PROFILE_TOKEN, 'ter:NoProfile');
            return media.profile(e);
          },
        },
        GetVideoSources: { access: 'camera.view', run: () => media.videoSources(e) },
        GetVideoEncoderConfigurations: { access: 'camera.view', run: () => media.videoEncoderConfigurations(e) },
        GetVideoEncoderConfiguration: {
          access: 'camera.view',
          run: (r) => {
            requireToken(r.body, 'ConfigurationToken', media.ENCODER_CONFIG_TOKEN, 'ter:NoConfig');
            return media.videoEncoderConfiguration(e);
          },
        },
        GetStreamUri: { access: 'camera.view', run: (r) => this.#streamUri(r.body) },
        GetSnapshotUri: {
          access: 'camera.view',
          run: (r) => {
            requireToken(r.body, 'ProfileToken', media.PROFILE_TOKEN, 'ter:NoProfile');
            return media.snapshotUri(`${this.#o.origin()}${SNAPSHOT_PATH}`, this.#o.originFixed);
          },
        },
      },
    };
  }

  async handle(endpoint: OnvifEndpoint, raw: string, call: OnvifCall): Promise<OnvifAnswer> {
    const event: RequestEvent = { service: endpoint, operation: '', actor: 'anonymous', reason: '', sourceIp: call.sourceIp };
    try {
      const request = parseSoapRequest(raw);
      event.operation = request.operation.slice(0, 64);
      const operation = Object.hasOwn(this.#operations[endpoint], request.operation) ? this.#operations[endpoint][request.operation] : undefined;
      if (operation?.access !== 'pre-auth') {
        const username = await this.#authenticate(request, call, event);
        // Unknown operations are named only to an authenticated caller.
        if (operation === undefined) throw new SoapFault('Receiver', 'ter:ActionNotSupported', 'Optional Action Not Implemented');
        if (!(await this.#o.identity.userHasPermission(username, operation.access))) {
          event.reason = `permission ${operation.access}`;
          this.#record(event, 'denied');
          return fault(notAuthorized());
        }
      }
      const xml = soapEnvelope(await operation.run(request));
      this.#record(event, 'success');
      return { status: 200, xml };
    } catch (err) {
      if (!(err instanceof SoapFault)) throw err;
      if (event.reason === '') event.reason = err.subcode;
      this.#record(event, err.subcode === 'ter:NotAuthorized' ? 'denied' : 'failure');
      return fault(err);
    }
  }

  /** CAM-T-auth-1: WS-UsernameToken (digest, fresh, nonce once); the outcome feeds the shared lockout. */
  async #authenticate(request: SoapRequest, call: OnvifCall, event: RequestEvent): Promise<string> {
    if (request.token === undefined) {
      event.reason = 'no-token';
      throw notAuthorized();
    }
    const result = await this.#o.accounts.authenticate(request.token, call.secure);
    await this.#o.identity.externalLoginResult(result.username, result.ok, { sourceIp: call.sourceIp, userAgent: 'onvif' }, 'onvif');
    if (!result.ok) {
      event.reason = result.reason;
      throw notAuthorized();
    }
    event.actor = `user:${result.username.slice(0, 64).toLowerCase()}`;
    return result.username;
  }

  #streamUri(body: XmlNode): string {
    requireToken(body, 'ProfileToken', media.PROFILE_TOKEN, 'ter:NoProfile');
    const setup = operationChild(body, 'StreamSetup');
    const stream = operationText(setup, 'Stream');
    const protocol = operationText(operationChild(setup, 'Transport'), 'Protocol');
    // Only RTSP over TCP (interleaved, inside TLS) is served: no UDP, no HTTP tunnel, no multicast.
    if ((stream !== undefined && stream !== 'RTP-Unicast') || (protocol !== undefined && protocol !== 'RTSP' && protocol !== 'TCP')) {
      throw new SoapFault('Sender', 'ter:InvalidArgVal', 'Only RTP-Unicast over RTSP (RTSPS, TCP interleaved) is offered', 'ter:InvalidStreamSetup');
    }
    const s = this.#o.stream();
    if (s === undefined) throw new SoapFault('Receiver', 'ter:Action', 'The camera stream is not available yet');
    return media.streamUri(s.uri, s.fixedPort);
  }

  #endpoints(): device.Endpoints {
    const origin = this.#o.origin();
    return { device: `${origin}${ONVIF_PATHS.device}`, media: `${origin}${ONVIF_PATHS.media}` };
  }

  #interfaces(): device.NetworkInterfaceFact[] {
    const out: device.NetworkInterfaceFact[] = [];
    const any = this.#o.listenHost === '0.0.0.0' || this.#o.listenHost === '::';
    for (const [name, addresses] of Object.entries(osInterfaces())) {
      for (const a of addresses ?? []) {
        if (a.family !== 'IPv4' || (any ? a.internal : a.address !== this.#o.listenHost)) continue;
        out.push({ name, mac: a.mac, address: a.address, prefixLength: Number(a.cidr?.split('/')[1] ?? 32) });
      }
    }
    return out.slice(0, 16);
  }

  #record(event: RequestEvent, outcome: AuditEventInput['outcome']): void {
    const details: Record<string, string> = { operation: event.operation };
    if (event.reason !== '') details['reason'] = event.reason;
    this.#o.audit.record({ category: 'video', action: 'onvif.request', actor: event.actor, source: event.sourceIp, target: `onvif:${event.service}`, outcome, details });
  }
}

function requireToken(body: XmlNode, element: string, expected: string, subsubcode: string): void {
  if (operationText(body, element) !== expected) throw new SoapFault('Sender', 'ter:InvalidArgVal', `No such ${element}`, subsubcode);
}

function fault(f: SoapFault): OnvifAnswer {
  return { status: f.httpStatus, xml: soapFaultXml(f) };
}
