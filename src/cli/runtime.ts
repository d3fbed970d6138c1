// The composition root: opens every foundation service in dependency order and closes them in
// reverse. `vigil start` serves them over HTTPS; other commands (setup, audit verify) use the
// same runtime without the server.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { PRODUCT } from '../core/product.ts';
import { openStore, type Store } from '../store/database.ts';
import { Keyring } from '../crypto/keyring.ts';
import { PasswordHasher } from '../crypto/password.ts';
import type { DeviceSigner } from '../crypto/signer.ts';
import { installCertificate, loadDeviceTls, tlsServerOptions, type DeviceTls } from '../crypto/tls.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { AuditQuery, type AuditExportFilter } from '../audit/query.ts';
import { verifyAuditChain, type AuditVerification } from '../audit/verify.ts';
import { watchClock, type ClockWatch } from '../audit/clock-watch.ts';
import { watchPorts, type PortWatch } from '../audit/port-watch.ts';
import { AlarmService } from '../alarms/alarm-service.ts';
import { DeferredAlarmSink } from '../alarms/deferred-sink.ts';
import { IdentityService } from '../identity/identity-service.ts';
import { CameraService } from '../video/cameras/camera-service.ts';
import { OnvifEnrolment } from '../video/cameras/onvif-enrolment.ts';
import { prepareEvidenceExport } from '../video/export/evidence-export.ts';
import { LiveHub } from '../video/live/live-hub.ts';
import { VideoStore } from '../video/storage/video-store.ts';
import { RecorderService } from '../video/recorder/recorder-service.ts';
import { createAccessPlatform, type AccessPlatform } from '../access/platform/platform.ts';
import { RtspAccounts } from '../camera/rtsp-accounts.ts';
import { SnapshotEndpoint, type SnapshotSource } from '../camera/snapshot.ts';
import { LOCAL_CAMERA_ID, startLocalRecording, type LocalRecording } from '../camera/local-recording.ts';
import { STREAM_PATH, cameraAuthenticator, startCameraRole, type CameraRole } from '../camera/camera-role.ts';
import { OnvifAccounts } from '../camera/onvif/onvif-accounts.ts';
import { OnvifService } from '../camera/onvif/onvif-service.ts';
import { acquireServiceLock } from './service-lock.ts';
import { DeviceRepository } from '../device/device-repository.ts';
import { DeviceEventRepository } from '../device/device-event-repository.ts';
import { DeviceCa } from '../device/device-ca.ts';
import { DeviceRegistry } from '../device/device-registry.ts';
import { DeviceEnrolment } from '../device/enrolment.ts';
import { ControllerEventIngest } from '../access/controller/sync-events.ts';
import { PublishedCredentialSets } from '../access/controller/sync-source.ts';
import { ControllerSyncServer } from '../access/controller/sync-server.ts';
import { measureControllerSoftware } from '../access/controller/sync-measurement.ts';
import { BackupService } from '../backup/backup-service.ts';
import { BackupScheduler } from '../backup/scheduler.ts';
import { DirectoryTarget } from '../backup/directory-target.ts';
import { DECLARED_SERVICES } from '../docs/services.ts';
import { DiscoveryRepository } from '../device/discovery/discovery-repository.ts';
import { DiscoveryResponders } from '../device/discovery/discovery-responders.ts';
import { DiscoveryService } from '../device/discovery/discovery-service.ts';
import { isDiscoveryProtocol } from '../device/discovery/protocols.ts';
import { buildApp } from '../http/app.ts';
import { startRedirectListener, type RedirectListener } from '../http/redirect.ts';
import type { AppServices, ListeningService } from '../http/services.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  keyring: Keyring;
  signer: DeviceSigner;
  audit: AuditLog;
  auditQuery: AuditQuery;
  alarms: AlarmService;
  identity: IdentityService;
  cameras: CameraService;
  video: VideoStore;
  /** Live fan-out of every recorded camera (MSE over WSS). */
  live: LiveHub;
  access: AccessPlatform;
  rtspAccounts: RtspAccounts;
  onvifAccounts: OnvifAccounts;
  backup: BackupService;
  devices: DeviceRegistry;
  enrolment: DeviceEnrolment;
  deviceCa: DeviceCa;
  credentialSets: PublishedCredentialSets;
  /** SSDP, mDNS, SNMP, WS-Discovery: off until an administrator turns them on (NVR-5.3.2.1a). */
  discovery: DiscoveryService;
  verifyAudit(): Promise<AuditVerification>;
  exportAudit(filter?: AuditExportFilter): AsyncIterable<string>;
  close(): Promise<void>;
}

/** `service`: the one process that records and maintains the store (see VideoStore `maintenance`). */
export async function openRuntime(config: Config, options: { logger?: Logger; clock?: Clock; service?: boolean } = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const clock = options.clock ?? systemClock;
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        logger.error({ err }, 'error while closing');
      }
    }
  };
  try {
    const store = await openStore(
      config.database.driver === 'sqlite'
        ? { driver: 'sqlite', file: path.resolve(config.dataDir, config.database.sqliteFile) }
        : { driver: 'postgres', url: config.database.postgresUrl },
    );
    closers.push(() => store.close());
    const keyring = await Keyring.open({ config: config.keyring, store, clock });
    closers.push(() => keyring.close());
    const signer = await keyring.deviceSigner();
    const hasher = new PasswordHasher({ iterations: config.security.pbkdf2Iterations, workers: config.security.hashWorkers, queueLimit: config.security.hashQueueLimit });
    closers.push(() => hasher.close());

    // The audit log raises alarms and the alarm service audits every change: the audit log
    // starts with a deferred sink that is handed to the alarm service once it exists.
    const auditAlarms = new DeferredAlarmSink();
    const audit = await AuditLog.open({ store, signer, alarms: auditAlarms, clock, config: config.audit, logger: logger.child({ component: 'audit' }) });
    closers.push(() => audit.close());
    const alarms = await AlarmService.open({ store, audit, clock, config: config.alarms, logger: logger.child({ component: 'alarms' }) });
    closers.push(() => alarms.close());
    auditAlarms.attach(alarms);
    const auditQuery = new AuditQuery({ store });

    const identity = new IdentityService({ store, sealer: keyring, hasher, audit, alarms, clock, config: config.security });
    const cameras = new CameraService({ store, keyring, audit, clock });
    const credentialSets = new PublishedCredentialSets(clock);
    const access = createAccessPlatform({
      store, keys: keyring, audit, alarms, clock, credentialSets,
      // Counts and versions only: never a card number or key (they are not in the results).
      // pinsNotAtEdge: credentials whose PIN was set before edge verifiers (issue #6): card-and-PIN
      // doors refuse them offline until an admin sets the PIN again.
      onPublished: (results) => logger.info({ sets: results.map((r) => ({ controller: r.controllerId, version: r.version, entries: r.entries, pinsNotAtEdge: r.pinsNotAtEdge })) }, 'credential sets published'),
    });
    // The held-open monitor runs in the service only (startService); closing stops it either way.
    closers.push(() => access.doors.stop());
    closers.push(() => access.publisher?.close());
    // Digest verifiers follow every password set (setup, users, changes), whichever role runs.
    const deviceRepository = new DeviceRepository(store);
    const deviceCa = await DeviceCa.open({ repository: deviceRepository, keyring, clock, siteName: config.deviceName });
    const devices = new DeviceRegistry({ repository: deviceRepository, ca: deviceCa, audit, alarms, clock });
    const enrolment = new DeviceEnrolment({ repository: deviceRepository, ca: deviceCa, audit, clock, platformKeyPem: signer.publicKeyPem });
    const rtspAccounts = new RtspAccounts({ db: store.db, keyring, identity });
    rtspAccounts.install();
    const onvifAccounts = new OnvifAccounts({ db: store.db, keyring, identity, clock });
    await onvifAccounts.install(config.camera.enabled);
    const video = await VideoStore.open({ store, keyring, signer, alarms, audit, clock, logger: logger.child({ component: 'video' }), config: config.video, dataDir: config.dataDir, maintenance: options.service === true });
    closers.push(() => video.close());
    const discovery = new DiscoveryService({
      repository: new DiscoveryRepository(store.db),
      sealer: keyring,
      audit,
      clock,
      cameraRole: config.camera.enabled,
      logger: logger.child({ component: 'discovery' }),
      responders: new DiscoveryResponders({
        host: config.http.host,
        ports: { 'ws-discovery': config.discovery.wsDiscoveryPort, ssdp: config.discovery.ssdpPort, mdns: config.discovery.mdnsPort, snmp: config.discovery.snmpPort },
        answersPerSourcePerMinute: config.discovery.answersPerSourcePerMinute,
        deviceName: config.deviceName,
        manufacturer: PRODUCT.name,
        model: PRODUCT.model,
        version: PRODUCT.version,
        deviceId: signer.keyId,
        cameraRole: config.camera.enabled,
        startedAt: clock.now(),
      }, logger.child({ component: 'discovery' })),
    });
    await discovery.load();
    closers.push(() => discovery.close());
    const backup = new BackupService({ video, keyring, signer, audit, clock, deviceName: config.deviceName, mirrorCopies: config.video.mirrorCopies });
    return {
      config,
      logger,
      clock,
      store,
      keyring,
      signer,
      audit,
      auditQuery,
      alarms,
      identity,
      cameras,
      video,
      live: new LiveHub(),
      access,
      rtspAccounts,
      onvifAccounts,
      backup,
      devices,
      enrolment,
      deviceCa,
      credentialSets,
      discovery,
      verifyAudit: async () => {
        await audit.flush();
        return verifyAuditChain({ store, publicKeyPem: signer.publicKeyPem });
      },
      exportAudit: (filter = {}) => auditQuery.exportJsonl(filter, signer),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** What the HTTP routes get of the runtime; the caller adds TLS and network facts. */
export function appServicesOf(runtime: Runtime): Omit<AppServices, 'tls' | 'listening' | 'origin' | 'webOrigins' | 'recording'> {
  return {
    product: { ...PRODUCT, deviceName: runtime.config.deviceName },
    identity: runtime.identity,
    audit: runtime.audit,
    auditQuery: runtime.auditQuery,
    alarms: runtime.alarms,
    cameras: runtime.cameras,
    onvifEnrolment: new OnvifEnrolment({ cameras: runtime.cameras, audit: runtime.audit }),
    video: runtime.video,
    live: runtime.live,
    access: runtime.access,
    discovery: runtime.discovery,
    devicePublicKeyPem: runtime.signer.publicKeyPem,
    verifyAudit: runtime.verifyAudit,
    exportAudit: runtime.exportAudit,
    exportEvidence: (request) => prepareEvidenceExport({
      video: runtime.video,
      signer: runtime.signer,
      device: { name: runtime.config.deviceName, product: PRODUCT.model, version: PRODUCT.version },
      now: () => runtime.clock.now(),
    }, request),
  };
}

/** The camera role's ONVIF service and snapshot endpoint (issue #9): URIs come from the one place the ports are known. */
function cameraEndpointsOf(
  runtime: Runtime,
  origin: () => string,
  stream: () => { uri: string; fixedPort: boolean } | undefined,
  snapshots: () => SnapshotSource | undefined,
): NonNullable<AppServices['camera']> {
  const c = runtime.config.camera;
  const onvif = new OnvifService({
    accounts: runtime.onvifAccounts,
    identity: runtime.identity,
    audit: runtime.audit,
    clock: runtime.clock,
    device: { manufacturer: PRODUCT.name, model: `${PRODUCT.name} software camera`, firmwareVersion: PRODUCT.version, serialNumber: runtime.signer.keyId, hardwareId: runtime.config.deviceName },
    encoder: { width: c.width, height: c.height, fps: c.fps, bitrateKbps: c.bitrateKbps, gop: c.gop },
    listenHost: runtime.config.http.host,
    origin,
    originFixed: runtime.config.http.port !== 0,
    stream,
  });
  const snapshot = new SnapshotEndpoint({
    authenticator: cameraAuthenticator(c, runtime.rtspAccounts),
    onAuthResult: (r) => runtime.rtspAccounts.onAuthResult(r, 'snapshot'),
    audit: runtime.audit,
    source: snapshots,
  });
  return { onvif, snapshot };
}

export interface RunningService {
  runtime: Runtime;
  app: FastifyInstance;
  url: string;
  closed: Promise<void>;
  stop(): Promise<void>;
}

export async function startService(config: Config): Promise<RunningService> {
  const lock = acquireServiceLock(config.dataDir);
  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, { service: true });
  } catch (err) {
    lock.release();
    throw err;
  }
  const { logger, identity, alarms, audit } = runtime;
  let clockWatch: ClockWatch | undefined;
  let portWatch: PortWatch | undefined;
  let redirect: RedirectListener | undefined;
  let sessionPurge: NodeJS.Timeout | undefined;
  let recorder: RecorderService | undefined;
  let camera: CameraRole | undefined;
  let localRecording: LocalRecording | undefined;
  let backupScheduler: BackupScheduler | undefined;
  let deviceSync: ControllerSyncServer | undefined;
  try {
    let tls = await loadDeviceTls({
      dataDir: config.dataDir,
      keyring: runtime.keyring,
      deviceName: config.deviceName,
      hostnames: [...new Set(['localhost', config.http.host])],
      tlsConfig: config.tls,
    });
    let listening: () => ListeningService[] = () => [];
    let origin = '';
    // The host as it appears in a URL (IPv6 literals in brackets): the origin and the stream URL.
    const urlHost = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const streamUrl = (scheme: 'rtsps' | 'rtsp', port: number): string => `${scheme}://${urlHost}:${port}${STREAM_PATH}`;
    const services: AppServices = {
      ...appServicesOf(runtime),
      tls: {
        current: () => tls,
        install: async (certPem, keyPem) => {
          tls = await installCertificate({ dataDir: config.dataDir, keyring: runtime.keyring, certPem, keyPem });
          // New connections get the new certificate at once; no restart.
          // The server was created with `https` options above, so it is a tls.Server.
          (app.server as unknown as import('node:tls').Server).setSecureContext(tlsServerOptions(tls));
          return tls;
        },
      },
      listening: () => listening(),
      recording: () => {
        const health = new Map(recorder?.health());
        if (localRecording !== undefined) health.set(LOCAL_CAMERA_ID, localRecording.recorder.health());
        return health;
      },
      origin: () => origin,
      webOrigins: () => {
        const own = new URL(origin);
        return [...new Set([own.origin, new URL(`https://${config.security.webauthnRpId}${own.port === '' ? '' : `:${own.port}`}`).origin])];
      },
      devices: { enrolment: runtime.enrolment, syncPort: () => deviceSync?.port ?? null },
      ...(config.camera.enabled ? { camera: cameraEndpointsOf(runtime, () => origin, () => {
        const port = camera?.ports.get('camera-rtsps');
        return port === undefined ? undefined : { uri: streamUrl('rtsps', port), fixedPort: config.camera.rtspsPort !== 0 };
      }, () => camera?.snapshots) } : {}),
    };
    const app = await buildApp({ config, logger, services, https: tlsServerOptions(tls) });
    const address = await app.listen({ host: config.http.host, port: config.http.port });
    const bound = new URL(address);
    origin = `https://${urlHost}:${bound.port}`;
    const boundPorts = new Map<string, number>([['https-api', Number(bound.port)]]);
    if (config.http.plainHttp === 'redirect') {
      redirect = await startRedirectListener({ host: config.http.host, port: config.http.plainHttpPort, httpsOrigin: origin });
      boundPorts.set('http-redirect', redirect.port);
    }

    // CAM-T-priv-2: every new login raises a notification operators see.
    identity.onLogin((notice) => {
      alarms.raise({
        type: 'auth.new_login',
        severity: 'info',
        source: `user:${notice.username}`,
        message: `${notice.username} logged in from ${notice.sourceIp}${notice.newSource ? ' (new address)' : ''}`,
        dedupeKey: `auth.new_login|${notice.userId}|${notice.sourceIp}`,
        details: { sourceIp: notice.sourceIp, newSource: notice.newSource },
      });
    });
    clockWatch = watchClock({ audit, alarms, clock: runtime.clock, intervalMs: 5_000 });
    portWatch = watchPorts({ audit, alarms, logger: logger.child({ component: 'ports' }), sysfsRoot: config.hardware.sysfsRoot, interfaces: config.hardware.interfaces, intervalMs: config.hardware.pollSeconds * 1000 });
    runtime.access.doors.start(1000);
    if (config.camera.enabled) {
      camera = await startCameraRole({ config: config.camera, host: config.http.host, deviceTls: tls, accounts: runtime.rtspAccounts, alarms, logger: logger.child({ component: 'camera' }), deviceName: config.deviceName });
      for (const [id, port] of camera.ports) {
        boundPorts.set(id, port);
        console.log(`camera stream on ${streamUrl(id === 'camera-rtsps' ? 'rtsps' : 'rtsp', port)}`);
      }
      if (config.camera.localRecording.enabled) {
        localRecording = startLocalRecording({
          feed: camera.feed, cameras: runtime.cameras, video: runtime.video, live: runtime.live, alarms, audit, clock: runtime.clock,
          logger: logger.child({ component: 'local-recording' }), deviceName: config.deviceName, config: config.camera.localRecording, videoConfig: config.video,
        });
      }
    }
    if (config.devices.mtlsEnabled) {
      // Every controller's set from the model before the first controller can ask (issue #6).
      const published = (await runtime.access.publisher?.publishAll()) ?? [];
      logger.info({ controllers: published.length, credentials: published.reduce((n, p) => n + p.entries, 0), pinsNotAtEdge: published.reduce((n, p) => n + p.pinsNotAtEdge, 0) }, 'credential sets published');
      deviceSync = await ControllerSyncServer.start({
        host: config.http.host,
        port: config.devices.mtlsPort,
        hostnames: [...new Set(['localhost', config.http.host, ...config.devices.hostnames])],
        ca: runtime.deviceCa,
        registry: runtime.devices,
        events: new ControllerEventIngest({
          repository: new DeviceEventRepository(runtime.store), audit, alarms, clock: runtime.clock,
          // ACS-5.6.1.1: a decision taken at the edge is an access event like any other.
          onStored: async (deviceId, events) => {
            for (const e of events) {
              await runtime.access.events.append({
                ts: e.at, category: 'access', type: e.type, outcome: e.type === 'access.granted' ? 'granted' : e.type === 'access.denied' ? 'denied' : 'info',
                reason: e.reason, source: `controller:${deviceId}`, siteId: null, doorId: e.doorId, cardholderId: e.subject === '' ? null : e.subject, credentialId: null,
                details: { controllerSeq: e.seq },
              });
              // Issue #6: a duress PIN at the edge is the platform's duress alarm too (as online).
              if (e.type === 'access.granted' && e.reason === 'duress') {
                alarms.raise({ type: 'access.duress', severity: 'critical', source: `door:${e.doorId}`, message: `duress PIN used at door ${e.doorId} (decided by controller ${deviceId})` });
              }
            }
          },
        }),
        source: runtime.credentialSets,
        signer: runtime.signer,
        allowedMeasurements: [await measureControllerSoftware(), ...config.devices.allowedMeasurements],
        clock: runtime.clock,
        logger: logger.child({ component: 'device-sync' }),
      });
      boundPorts.set('device-mtls', deviceSync.port);
    }
    // Discovery responders start now that the HTTPS origin and the RTSPS port are known.
    runtime.discovery.responders.attach({ origin: () => origin, rtspsPort: () => camera?.ports.get('camera-rtsps') });
    await runtime.discovery.load();
    // The declared services as actually bound (ports of 0 resolved), with the discovery
    // toggles as they are at the moment of asking.
    listening = () => {
      const discovery = runtime.discovery.toggles();
      return DECLARED_SERVICES.flatMap((s) => {
        const l = s.listen(config, discovery);
        const bound = boundPorts.get(s.id) ?? (isDiscoveryProtocol(s.id) ? runtime.discovery.port(s.id) : undefined);
        return l === null ? [] : [{ id: s.id, protocol: s.protocol, host: l.host, port: bound ?? l.port, application: s.application, authentication: s.authentication }];
      });
    };
    recorder = new RecorderService({ cameras: runtime.cameras, video: runtime.video, live: runtime.live, alarms, audit, clock: runtime.clock, logger: logger.child({ component: 'recorder' }), config: config.video });
    await recorder.start();
    if (config.backup.schedule.enabled) {
      const s = config.backup.schedule;
      backupScheduler = new BackupScheduler({
        service: runtime.backup,
        openTarget: () => DirectoryTarget.open({ root: s.target }),
        targetName: s.target,
        everyHours: s.everyHours,
        alarms,
        logger: logger.child({ component: 'backup' }),
        runOptions: () => ({ kind: s.kind, recoveryPassphrase: s.recoveryPassphraseEnv === '' ? undefined : process.env[s.recoveryPassphraseEnv] }),
      });
      backupScheduler.start();
    }
    // Expired and idle sessions are deleted, not just refused (NVR-5.4.3.1b, ACS-5.2.1.13).
    sessionPurge = setInterval(() => {
      identity.purgeExpiredSessions().catch((err: unknown) => logger.warn({ err }, 'session purge failed'));
    }, 60_000);
    sessionPurge.unref();

    audit.record({ category: 'system', action: 'system.start', actor: 'system', source: 'local', target: '', outcome: 'success', details: { version: PRODUCT.version } });
    if (await identity.setupRequired()) {
      // NVR-5.4.2.1b: no default account; the first administrator is made with this one-time token.
      const token = identity.createSetupToken();
      console.log('SETUP REQUIRED: no administrator exists yet. Every request other than setup is refused until one is created.');
      console.log(`Create it: open ${origin}/ in a browser and enter the token, or run bin/vigil setup --username NAME (password on standard input)`);
      console.log(`setup token: ${token}`);
    }
    // Printed last: scripts and tests wait for this line, after the setup token.
    console.log(`${PRODUCT.name} ${PRODUCT.version} listening on ${origin} (certificate SHA-256 ${tls.fingerprint256}${tls.selfSigned ? ', self-signed device certificate' : ''})`);

    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        clockWatch?.stop();
        portWatch?.stop();
        clearInterval(sessionPurge);
        await backupScheduler?.stop();
        await recorder?.stop();
        await localRecording?.stop();
        await camera?.stop();
        audit.record({ category: 'system', action: 'system.stop', actor: 'system', source: 'local', target: '', outcome: 'success' });
        await runtime.discovery.close();
        await redirect?.close();
        await deviceSync?.close();
        await app.close();
        await runtime.close();
        lock.release();
        resolveClosed();
      })());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // A repeated signal (systemd, a second Ctrl-C) must not cut the orderly stop short.
      process.on(signal, () => {
        logger.info({ signal }, stopping === undefined ? 'stopping' : 'already stopping');
        stop().catch((err: unknown) => {
          logger.error({ err }, 'error while stopping');
          process.exitCode = 1;
        });
      });
    }
    return { runtime, app, url: origin, closed, stop };
  } catch (err) {
    clockWatch?.stop();
    portWatch?.stop();
    clearInterval(sessionPurge);
    await backupScheduler?.stop();
    await recorder?.stop();
    await localRecording?.stop();
    await camera?.stop();
    await deviceSync?.close();
    await redirect?.close();
    await runtime.close();
    lock.release();
    throw err;
  }
}
