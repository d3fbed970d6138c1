// What the route modules are given: the running services, nothing else.
import type { Config } from '../core/config.ts';
import type { DeviceTls } from '../crypto/tls.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditQuery, AuditExportFilter } from '../audit/query.ts';
import type { AuditVerification } from '../audit/verify.ts';
import type { AlarmService } from '../alarms/alarm-service.ts';
import type { IdentityService } from '../identity/identity-service.ts';
import type { CameraService } from '../video/cameras/camera-service.ts';
import type { OnvifEnrolment } from '../video/cameras/onvif-enrolment.ts';
import type { AccessPlatform } from '../access/platform/platform.ts';
import type { VideoStore } from '../video/storage/video-store.ts';
import type { LiveHub } from '../video/live/live-hub.ts';
import type { CameraHealth } from '../video/recorder/camera-recorder.ts';
import type { OnvifService } from '../camera/onvif/onvif-service.ts';
import type { SnapshotEndpoint } from '../camera/snapshot.ts';
import type { DiscoveryService } from '../device/discovery/discovery-service.ts';
import type { DeviceEnrolment } from '../device/enrolment.ts';
import type { EvidenceRequest, PreparedEvidence } from '../video/export/evidence-export.ts';

export interface ListeningService {
  id: string;
  protocol: string;
  host: string;
  port: number;
  application: string;
  authentication: string;
}

export interface AppServices {
  product: { name: string; model: string; version: string; deviceName: string; transports: readonly string[] };
  identity: IdentityService;
  audit: AuditLog;
  auditQuery: AuditQuery;
  alarms: AlarmService;
  cameras: CameraService;
  /** Adding cameras by ONVIF with TLS trust on first use. */
  onvifEnrolment: OnvifEnrolment;
  video: VideoStore;
  live: LiveHub;
  access: AccessPlatform;
  /** Discovery toggles and the SNMPv3 user (NVR-5.3.2.1a, CAM-5.3.2.2). */
  discovery: DiscoveryService;
  /** Ed25519 public key of the device: verifies audit checkpoints and exports offline. */
  devicePublicKeyPem: string;
  verifyAudit(): Promise<AuditVerification>;
  exportAudit(filter?: AuditExportFilter): AsyncIterable<string>;
  /** A signed evidence bundle of one camera's recordings, verified before the first byte. */
  exportEvidence(request: EvidenceRequest): Promise<PreparedEvidence>;
  tls: { current(): DeviceTls; install(certPem: string, keyPem: string): Promise<DeviceTls> };
  /** The declared services as actually bound (ports resolved). */
  listening(): ListeningService[];
  /** Health of the cameras recording now, by id (empty until the recorder runs). */
  recording(): ReadonlyMap<string, CameraHealth>;
  /** https://host:port as clients reach it: WebAuthn's expected origin. */
  origin(): string;
  /**
   * The origins the device's own web UI is served under: origin(), and the same port under the
   * WebAuthn relying-party host name (browsers refuse passkeys on an IP-address origin, so with
   * the default listener 127.0.0.1 passkeys work only at https://localhost:PORT). WebAuthn and
   * the live view's Origin check accept exactly these; a look-alike or a subdomain is refused.
   */
  webOrigins(): string[];
  /** Edge device enrolment (POST /api/v1/devices/enrol) and where the device sync listener is. */
  devices?: { enrolment: DeviceEnrolment; syncPort(): number | null };
  /** The camera role's ONVIF service and snapshot endpoint; their routes exist only when this is set (camera.enabled). */
  camera?: { onvif: OnvifService; snapshot: SnapshotEndpoint };
}

export interface RouteDeps {
  services: AppServices;
  config: Config;
}
