// Adding a camera by ONVIF with TLS trust on first use (issue #9; CAM-T-auth-2, CAM-T-auth-3):
//
//   1. probe   — the admin gives the address; Vigil reads the device's TLS certificate without
//                sending anything (no credential) and shows its SHA-256 fingerprint, subject and
//                validity, to compare with the one the device shows (a Vigil camera: System).
//   2. inspect — with the confirmed fingerprint and the credentials, ONVIF over a connection
//                pinned to that certificate: GetDeviceInformation, GetCapabilities (media path),
//                GetProfiles, GetStreamUri (RTP unicast over RTSP); the RTSPS server's
//                certificate is read too — for a Vigil camera it is the device certificate,
//                otherwise it is shown and must be confirmed as well.
//   3. add     — inspect again (stateless: nothing from step 2 is trusted blindly) and create the
//                camera with the rtsps URL, the sealed credentials and the pin.
//
// Every step is stateless and re-checks the certificate, so a device swapped between steps is
// caught (VIGIL_ONVIF_FINGERPRINT_MISMATCH, named as such). Every step is audited with the
// fingerprints (never the credentials). Re-pinning a camera later is the same decision, made by
// an admin and audited with the old and the new fingerprint.
import type { AuditSink } from '../../audit/types.ts';
import { VigilError, isVigilError } from '../../core/errors.ts';
import type { RequestContext } from '../../identity/types.ts';
import { readServerCertificate, displayFingerprint, type ServerCertificate } from '../../crypto/tls-trust.ts';
import {
  DEFAULT_DEVICE_PATH, DEFAULT_MEDIA_PATH, OnvifAnswerError, capabilitiesRequest, deviceInformationRequest, parseDeviceInformation, parseMediaPath,
  parseProfiles, parseStreamUri, profilesRequest, streamUriRequest, type DeviceInformation, type MediaProfile,
} from '../../onvif/client-messages.ts';
import { usernameToken } from '../../onvif/wss-username-token.ts';
import type { CameraInput, CameraService, CameraView, RecordingMode } from './camera-service.ts';
import { addressUrl, parseOnvifAddress, postPinnedSoap, type OnvifAddress } from './onvif-client.ts';

const TIMEOUT_MS = 10_000;
const RTSPS_DEFAULT_PORT = 322;

export type CertificateView = Omit<ServerCertificate, 'anchorPem'> & { pinnable: boolean };

export interface ProbeResult {
  deviceUrl: string;
  certificate: CertificateView;
}

export interface InspectInput {
  address: string;
  fingerprint256: string;
  username: string;
  password: string;
  profileToken?: string;
}

export interface StreamView {
  url: string;
  secure: boolean;
  /** RTSPS: the stream server's certificate, and whether it is the device certificate itself. */
  certificate: CertificateView | null;
  sameCertificateAsDevice: boolean;
}

export interface InspectResult {
  deviceUrl: string;
  device: DeviceInformation;
  profiles: MediaProfile[];
  profileToken: string;
  stream: StreamView;
}

export interface AddInput extends InspectInput {
  name: string;
  /** Needed when the RTSPS server presents another certificate than the device: its fingerprint, confirmed. */
  streamFingerprint256?: string;
  /** Needed for a camera that offers plain RTSP only: video and RTSP credentials unencrypted. */
  acceptUnencrypted?: boolean;
  recordingMode?: RecordingMode;
  retentionDays?: number;
}

function view(c: ServerCertificate): CertificateView {
  const { anchorPem, ...rest } = c;
  return { ...rest, pinnable: anchorPem !== undefined };
}

function normalised(fingerprint: string, field: string): string {
  try {
    return displayFingerprint(fingerprint);
  } catch {
    throw new VigilError('VIGIL_VALIDATION', `${field}: a SHA-256 fingerprint, 32 bytes in hex (AA:BB:…)`, { details: { field } });
  }
}

interface Inspected extends InspectResult {
  streamUrl: URL;
  streamCertificate: ServerCertificate | undefined;
}

/** What the admin is shown of an inspection: all but the internal stream URL and certificate. */
function shownOf({ deviceUrl, device, profiles, profileToken, stream }: Inspected): InspectResult {
  return { deviceUrl, device, profiles, profileToken, stream };
}

export class OnvifEnrolment {
  readonly #cameras: CameraService;
  readonly #audit: AuditSink;
  readonly #timeoutMs: number;

  constructor(o: { cameras: CameraService; audit: AuditSink; timeoutMs?: number }) {
    this.#cameras = o.cameras;
    this.#audit = o.audit;
    this.#timeoutMs = o.timeoutMs ?? TIMEOUT_MS;
  }

  /** Step 1: the device certificate, read without sending a byte. */
  async probe(address: string, ctx: RequestContext): Promise<ProbeResult> {
    const where = parseOnvifAddress(address, DEFAULT_DEVICE_PATH);
    const target = addressUrl(where);
    try {
      const certificate = await this.#certificate(where.host, where.port);
      this.#record(ctx, 'camera.onvif_probe', target, 'success', { fingerprint256: certificate.fingerprint256, subject: certificate.subject.slice(0, 200), selfSigned: certificate.selfSigned });
      return { deviceUrl: target, certificate: view(certificate) };
    } catch (err) {
      this.#record(ctx, 'camera.onvif_probe', target, 'failure', { error: isVigilError(err) ? err.code : 'VIGIL_INTERNAL' });
      throw err;
    }
  }

  /** Step 2: what the device offers, over the pinned connection. */
  async inspect(input: InspectInput, ctx: RequestContext): Promise<InspectResult> {
    const where = parseOnvifAddress(input.address, DEFAULT_DEVICE_PATH);
    try {
      const result = await this.#inspect(where, input);
      this.#record(ctx, 'camera.onvif_inspect', addressUrl(where), 'success', {
        fingerprint256: normalised(input.fingerprint256, 'fingerprint256'), username: input.username.slice(0, 64), stream: result.stream.url,
        streamFingerprint256: result.streamCertificate?.fingerprint256 ?? null,
      });
      return shownOf(result);
    } catch (err) {
      this.#record(ctx, 'camera.onvif_inspect', addressUrl(where), 'failure', { error: isVigilError(err) ? err.code : 'VIGIL_INTERNAL', username: input.username.slice(0, 64) });
      throw err;
    }
  }

  /** Step 3: inspect again, then create the camera pinned to the confirmed certificate. */
  async add(input: AddInput, ctx: RequestContext): Promise<{ camera: CameraView; stream: StreamView }> {
    const where = parseOnvifAddress(input.address, DEFAULT_DEVICE_PATH);
    let inspected: Inspected;
    try {
      inspected = await this.#inspect(where, input);
    } catch (err) {
      this.#record(ctx, 'camera.onvif_add', addressUrl(where), 'failure', { error: isVigilError(err) ? err.code : 'VIGIL_INTERNAL' });
      throw err;
    }
    const camera: CameraInput = { name: input.name, url: inspected.streamUrl.toString(), username: input.username, password: input.password };
    if (input.recordingMode !== undefined) camera.recordingMode = input.recordingMode;
    if (input.retentionDays !== undefined) camera.retentionDays = input.retentionDays;
    const cert = inspected.streamCertificate;
    const decision: Record<string, string | boolean | null> = { deviceFingerprint256: normalised(input.fingerprint256, 'fingerprint256'), stream: inspected.stream.url };
    if (cert !== undefined) {
      if (!inspected.stream.sameCertificateAsDevice) {
        const confirmed = input.streamFingerprint256 === undefined ? undefined : normalised(input.streamFingerprint256, 'streamFingerprint256');
        if (confirmed !== cert.fingerprint256) {
          const err = new VigilError('VIGIL_ONVIF_RTSPS_UNCONFIRMED', `the RTSPS server presents another certificate than the device (${cert.fingerprint256}); compare it with the camera and confirm it too`, { details: { streamFingerprint256: cert.fingerprint256, subject: cert.subject } });
          this.#record(ctx, 'camera.onvif_add', addressUrl(where), 'failure', { error: err.code, streamFingerprint256: cert.fingerprint256 });
          throw err;
        }
      }
      if (cert.anchorPem === undefined) throw this.#unanchored(cert);
      camera.tlsCaPem = cert.anchorPem;
      camera.tlsFingerprint256 = cert.fingerprint256;
      decision['streamFingerprint256'] = cert.fingerprint256;
    } else if (input.acceptUnencrypted !== true) {
      const err = new VigilError('VIGIL_ONVIF_PLAIN_RTSP_ONLY', 'the camera offers plain RTSP only: video and RTSP credentials would cross the network unencrypted (CAM-T-priv-3). Enable RTSPS on the camera, or accept unencrypted video explicitly.', { details: { stream: inspected.stream.url } });
      this.#record(ctx, 'camera.onvif_add', addressUrl(where), 'failure', { error: err.code });
      throw err;
    } else {
      decision['unencryptedAccepted'] = true;
    }
    const created = await this.#cameras.create(camera, ctx);
    // The trust decision itself, with what was trusted (CAM-T-auth-2): who confirmed which certificate for which camera.
    this.#record(ctx, 'camera.tls_trust', `camera:${created.id}`, 'success', { ...decision, via: 'onvif', name: created.name });
    return { camera: created, stream: inspected.stream };
  }

  /**
   * Re-pinning after a camera's certificate changed on purpose (a new device, a renewed
   * certificate): the admin confirms the fingerprint the RTSPS server now presents, read again
   * here; audited with the old and new fingerprints. The recorder restarts with the new pin.
   */
  async trustCurrentCertificate(id: string, fingerprint256: string, ctx: RequestContext): Promise<CameraView> {
    const camera = await this.#cameras.get(id);
    const url = new URL(camera.url);
    if (url.protocol !== 'rtsps:') throw new VigilError('VIGIL_VALIDATION', 'the camera is not recorded over rtsps://: there is no certificate to trust', { details: { field: 'url' } });
    const confirmed = normalised(fingerprint256, 'fingerprint256');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const cert = await this.#certificate(host, url.port === '' ? RTSPS_DEFAULT_PORT : Number(url.port));
    const details = { previous: camera.tlsFingerprint256, confirmed, seen: cert.fingerprint256 };
    if (cert.fingerprint256 !== confirmed) {
      this.#record(ctx, 'camera.tls_trust', `camera:${id}`, 'failure', { ...details, error: 'VIGIL_ONVIF_FINGERPRINT_MISMATCH' });
      throw this.#mismatch(confirmed, cert.fingerprint256);
    }
    if (cert.anchorPem === undefined) throw this.#unanchored(cert);
    const updated = await this.#cameras.update(id, { tlsCaPem: cert.anchorPem, tlsFingerprint256: cert.fingerprint256 }, ctx);
    this.#record(ctx, 'camera.tls_trust', `camera:${id}`, 'success', { ...details, via: 're-pin' });
    return updated;
  }

  async #certificate(host: string, port: number): Promise<ServerCertificate> {
    try {
      return await readServerCertificate({ host, port, timeoutMs: this.#timeoutMs });
    } catch (err) {
      if (isVigilError(err) && err.code === 'VIGIL_TLS_UNREACHABLE') throw new VigilError('VIGIL_ONVIF_UNREACHABLE', `${host}:${port} cannot be reached over TLS`, { details: err.details ?? {}, cause: err });
      throw err;
    }
  }

  #mismatch(expected: string, seen: string): VigilError {
    return new VigilError(
      'VIGIL_ONVIF_FINGERPRINT_MISMATCH',
      `the device presents another certificate than the one confirmed (expected ${expected}, seen ${seen}): the device may have been replaced or someone is in between. Nothing was sent to it; check the device before trusting it.`,
      { details: { expected, seen } },
    );
  }

  #unanchored(cert: ServerCertificate): VigilError {
    return new VigilError('VIGIL_ONVIF_CERT_UNANCHORED', 'the device\'s certificate chain does not end in a self-signed certificate it presents; add the camera with its CA certificate instead', { details: { fingerprint256: cert.fingerprint256, issuer: cert.issuer } });
  }

  async #inspect(where: OnvifAddress, input: InspectInput): Promise<Inspected> {
    const confirmed = normalised(input.fingerprint256, 'fingerprint256');
    // Read again: the step-1 answer is not kept, and the anchor comes from the certificate now seen.
    const certificate = await this.#certificate(where.host, where.port);
    if (certificate.fingerprint256 !== confirmed) throw this.#mismatch(confirmed, certificate.fingerprint256);
    if (certificate.anchorPem === undefined) throw this.#unanchored(certificate);
    const endpoint = { host: where.host, port: where.port, timeoutMs: this.#timeoutMs, anchorPem: certificate.anchorPem, fingerprint256: confirmed };
    const call = async <T>(path: string, request: (security: string) => string, parse: (text: string) => T): Promise<T> => {
      let answer;
      try {
        answer = await postPinnedSoap(endpoint, path, request(usernameToken(input.username, input.password, new Date().toISOString())));
      } catch (err) {
        if (isVigilError(err) && err.code === 'VIGIL_TLS_CERT_INVALID') {
          const seen = typeof err.details?.['seen'] === 'string' ? err.details['seen'] : 'unknown';
          throw this.#mismatch(confirmed, seen);
        }
        if (isVigilError(err) && err.code === 'VIGIL_TLS_UNREACHABLE') throw new VigilError('VIGIL_ONVIF_UNREACHABLE', `${where.host}:${where.port} cannot be reached over TLS`, { cause: err });
        throw err;
      }
      // HTTP-level refusals (a device using HTTP Digest instead of WS-Security answers 401).
      if (answer.status === 401 || answer.status === 403) throw new VigilError('VIGIL_ONVIF_AUTH_REFUSED', 'the camera refused the credentials');
      try {
        return parse(answer.text);
      } catch (err) {
        if (!(err instanceof OnvifAnswerError)) throw err;
        if (err.notAuthorized) throw new VigilError('VIGIL_ONVIF_AUTH_REFUSED', 'the camera refused the credentials (ter:NotAuthorized)');
        if (err.kind === 'not-soap' || answer.status === 404) throw new VigilError('VIGIL_ONVIF_NOT_ONVIF', `${addressUrl({ ...where, path })} does not answer ONVIF (HTTP ${answer.status})`);
        throw new VigilError('VIGIL_ONVIF_PROTOCOL', `the camera's answer was refused: ${err.message.slice(0, 200)}`, { details: { subcode: err.subcode ?? null } });
      }
    };
    const device = await call(where.path, deviceInformationRequest, parseDeviceInformation);
    // Only the path of the media XAddr is used, on the same pinned connection: an answer cannot
    // send the credentials to another host.
    let mediaPath = DEFAULT_MEDIA_PATH;
    try {
      mediaPath = (await call(where.path, capabilitiesRequest, parseMediaPath)) ?? DEFAULT_MEDIA_PATH;
    } catch (err) {
      if (!isVigilError(err) || err.code !== 'VIGIL_ONVIF_PROTOCOL') throw err; // optional for this account: fall back to the usual path
    }
    const profiles = await call(mediaPath, profilesRequest, parseProfiles);
    const profile = this.#chooseProfile(profiles, input.profileToken);
    const streamUrl = await call(mediaPath, (s) => streamUriRequest(profile.token, s), parseStreamUri);
    return { ...(await this.#stream(streamUrl, certificate)), deviceUrl: addressUrl(where), device, profiles, profileToken: profile.token };
  }

  #chooseProfile(profiles: MediaProfile[], wanted: string | undefined): MediaProfile {
    if (wanted !== undefined) {
      const p = profiles.find((x) => x.token === wanted);
      if (p === undefined) throw new VigilError('VIGIL_VALIDATION', `profileToken: the camera has no profile ${wanted}`, { details: { field: 'profileToken' } });
      if (p.encoding !== 'H264' && p.encoding !== 'H265') throw new VigilError('VIGIL_ONVIF_NO_H264', `profile ${wanted} is ${p.encoding || 'not video'}: the recorder takes H.264 (or H.265)`);
      return p;
    }
    // The first H.264 profile is the camera's main stream by ONVIF convention; H.265 if none.
    const chosen = profiles.find((p) => p.encoding === 'H264') ?? profiles.find((p) => p.encoding === 'H265');
    if (chosen === undefined) throw new VigilError('VIGIL_ONVIF_NO_H264', `the camera offers no H.264 video profile (profiles: ${profiles.map((p) => `${p.token}=${p.encoding || 'none'}`).join(', ').slice(0, 200) || 'none'})`);
    return chosen;
  }

  /** The stream: rtsps as given, or — for an rtsp:// answer — RTSPS on 322 of the same host if it answers TLS. */
  async #stream(uri: URL, device: ServerCertificate): Promise<Pick<Inspected, 'stream' | 'streamUrl' | 'streamCertificate'>> {
    const host = uri.hostname.startsWith('[') ? uri.hostname.slice(1, -1) : uri.hostname;
    let url = uri;
    let certificate: ServerCertificate | undefined;
    if (uri.protocol === 'rtsps:') {
      certificate = await this.#certificate(host, uri.port === '' ? RTSPS_DEFAULT_PORT : Number(uri.port));
    } else {
      try {
        certificate = await readServerCertificate({ host, port: RTSPS_DEFAULT_PORT, timeoutMs: Math.min(this.#timeoutMs, 3000) });
        url = new URL(uri.toString().replace(/^rtsp:/, 'rtsps:'));
        url.port = String(RTSPS_DEFAULT_PORT);
      } catch {
        certificate = undefined; // no RTSPS next to it: plain RTSP only
      }
    }
    return {
      streamUrl: url,
      streamCertificate: certificate,
      stream: {
        url: url.toString(),
        secure: certificate !== undefined,
        certificate: certificate === undefined ? null : view(certificate),
        sameCertificateAsDevice: certificate !== undefined && certificate.fingerprint256 === device.fingerprint256,
      },
    };
  }

  #record(ctx: RequestContext, action: string, target: string, outcome: 'success' | 'failure', details: Record<string, string | number | boolean | null>): void {
    this.#audit.record({ category: 'video', action, actor: ctx.actor === undefined ? 'system' : `user:${ctx.actor.username}`, source: ctx.sourceIp, target, outcome, details });
  }
}
