// Configuration: one validated schema (TypeBox → JSON Schema → ajv). Sources, lowest first:
// schema defaults, a JSON file (--config or VIGIL_CONFIG), then environment variables
// VIGIL_<SECTION>__<KEY> (e.g. VIGIL_HTTP__PORT=9443). Every default is the secure choice, and
// security settings only accept values inside the secure range (GCB / seed 002 §5.4.2).
// docs/configuration.md is generated from this schema (`vigil docs`), so it cannot drift.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { VigilError } from './errors.ts';

const Port = (description: string, def: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      default: 'vigil-data',
      description: 'Directory for the database, recordings and state. Relative paths resolve against the working directory.',
    }),
    deviceName: Type.String({ default: 'vigil', minLength: 1, maxLength: 64, description: 'Name shown in product information (ACS-5.2.2.10).' }),
    log: Type.Object(
      {
        level: Type.Union(
          [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')],
          { default: 'info', description: 'Minimum level written to the console log. Secrets are always redacted.' },
        ),
      },
      { default: {} },
    ),
    database: Type.Object(
      {
        driver: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
          default: 'sqlite',
          description: 'Catalog, identity and audit database: embedded SQLite (default) or PostgreSQL for scale-out.',
        }),
        sqliteFile: Type.String({ default: 'vigil.db', description: 'SQLite file, relative to dataDir.' }),
        postgresUrl: Type.String({
          default: '',
          description: 'PostgreSQL connection string (postgres://user@host:port/db). Required when driver is postgres. Put the password in PGPASSWORD, not here.',
        }),
      },
      { default: {} },
    ),
    keyring: Type.Object(
      {
        kek: Type.Union([Type.Literal('file'), Type.Literal('pkcs11')], {
          default: 'file',
          description: 'Where the key-encryption key lives: a device-bound key file (0600, outside dataDir) or a PKCS#11 token (HSM, NVR-5.2.4.2a).',
        }),
        kekFile: Type.String({
          default: 'vigil-keyring/kek.key',
          description: 'KEK file when kek=file. Must not be inside dataDir, so a copied data volume cannot be decrypted (NVR-5.1.2.1b).',
        }),
        pkcs11Module: Type.String({ default: '', description: 'Path of the PKCS#11 module (.so) when kek=pkcs11.' }),
        pkcs11TokenLabel: Type.String({ default: '', description: 'Label of the token holding the KEK.' }),
        pkcs11KeyLabel: Type.String({ default: 'vigil-kek', description: 'Label of the AES-256 KEK object on the token; created if absent.' }),
        pkcs11PinFile: Type.String({ default: '', description: 'File holding the token user PIN (0600). The PIN is never accepted on the command line.' }),
      },
      { default: {} },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Address the HTTPS API and UI listen on.' }),
        port: Port('HTTPS port. 0 picks a free port (printed at start).', 8443),
        plainHttp: Type.Union([Type.Literal('off'), Type.Literal('redirect')], {
          default: 'off',
          description: 'Plain HTTP: off (default) or a listener that only redirects to HTTPS. It never serves content.',
        }),
        plainHttpPort: Port('Port of the redirect-only HTTP listener when plainHttp=redirect.', 8080),
        trustProxy: Type.Boolean({ default: false, description: 'Trust X-Forwarded-For from a reverse proxy for the audit source address.' }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 1024 * 1024, description: 'Largest accepted request body.' }),
      },
      { default: {} },
    ),
    tls: Type.Object(
      {
        certFile: Type.String({ default: '', description: 'Admin-supplied certificate chain (PEM). Empty: the self-signed device certificate made at first run.' }),
        keyFile: Type.String({ default: '', description: 'Private key (PEM) for certFile.' }),
      },
      { default: {} },
    ),
    security: Type.Object(
      {
        passwordMinLength: Type.Integer({ minimum: 12, maximum: 128, default: 12, description: 'Minimum password length (GCB CCE-33789-9: at least 12).' }),
        passwordHistory: Type.Integer({ minimum: 3, maximum: 24, default: 3, description: 'Previous passwords that cannot be reused (GCB CCE-35219-5: at least 3).' }),
        passwordMaxAgeDays: Type.Integer({ minimum: 1, maximum: 365, default: 90, description: 'Maximum password age; users are reminded before and forced to change after (ACS-5.1.1.7, ACS-5.1.3.1).' }),
        passwordMinAgeDays: Type.Integer({ minimum: 0, maximum: 7, default: 1, description: 'Minimum password age between voluntary changes (ACS-5.1.3.1). Admin resets are exempt.' }),
        lockoutThreshold: Type.Integer({ minimum: 1, maximum: 5, default: 5, description: 'Failed logins before the account locks (NVR-5.4.2.1d: at most 5).' }),
        lockoutMinutes: Type.Integer({ minimum: 15, maximum: 1440, default: 15, description: 'How long a locked account stays locked (at least 15 minutes).' }),
        sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 30, default: 15, description: 'Idle timeout of a session (NVR-5.4.3.1b).' }),
        sessionAbsoluteHours: Type.Integer({ minimum: 1, maximum: 24, default: 12, description: 'Absolute lifetime of a session, whatever its activity.' }),
        pbkdf2Iterations: Type.Integer({ minimum: 600_000, maximum: 10_000_000, default: 600_000, description: 'PBKDF2-HMAC-SHA256 iterations for stored passwords (FIPS-approved, OWASP 2023: ≥600,000).' }),
        hashWorkers: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Worker threads hashing passwords; bounds the CPU a login flood can take.' }),
        hashQueueLimit: Type.Integer({ minimum: 1, maximum: 10_000, default: 64, description: 'Password hashes waiting beyond this are refused with VIGIL_RATE_LIMITED.' }),
        mfaRequiredRoles: Type.Array(Type.String(), {
          default: ['administrator'],
          description: 'Roles whose members must use a second factor (TOTP or WebAuthn) to log in (NVR-5.4.1.2a).',
        }),
        authRateLimitPerMinute: Type.Integer({ minimum: 1, maximum: 600, default: 30, description: 'Requests per minute per source address to authentication routes.' }),
        webauthnRpId: Type.String({
          default: 'localhost',
          minLength: 1,
          maxLength: 253,
          description: 'WebAuthn relying-party ID: the host name users reach Vigil by. Security keys and passkeys are bound to it (NVR-5.4.1.2a).',
        }),
        webauthnRpName: Type.String({
          default: 'Vigil',
          minLength: 1,
          maxLength: 64,
          description: 'Name authenticators and TOTP apps show for this installation.',
        }),
      },
      { default: {} },
    ),
    audit: Type.Object(
      {
        retentionMonths: Type.Integer({
          minimum: 3,
          maximum: 120,
          default: 12,
          description: 'Security log retention (NIST SP 800-92 high impact; ACS-5.6.1.12: 3–12 months at level 3).',
        }),
        capacityEvents: Type.Integer({
          minimum: 100_000,
          maximum: 10_000_000_000,
          default: 50_000_000,
          description: 'Configured capacity of the security log in events; an alarm is raised at 90 % (ACS-5.6.1.13).',
        }),
        checkpointEveryEvents: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'A signed checkpoint is written after this many events.' }),
        checkpointEverySeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'A signed checkpoint is written at least this often while events arrive.' }),
      },
      { default: {} },
    ),
    video: Type.Object(
      {
        volumes: Type.Array(
          Type.Object({
            id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Stable name of the volume (shown in alarms).' }),
            path: Type.String({ minLength: 1, description: 'Directory on the disk; relative paths are taken from the working directory.' }),
            role: Type.Union([Type.Literal('mirror'), Type.Literal('spare')], {
              default: 'mirror',
              description: 'mirror: every segment is written to each mirror volume (RAID-1 level, NVR-5.1.5.2a); spare: joins and is rebuilt when a mirror fails (NVR-5.1.5.2b).',
            }),
          }),
          {
            default: [],
            maxItems: 16,
            description: 'Recording volumes. Empty: one volume <dataDir>/video (no redundancy; give two mirrors on different disks and a spare for NVR-5.1.5.2a/b).',
          },
        ),
        mirrorCopies: Type.Integer({ minimum: 1, maximum: 4, default: 2, description: 'Copies of every segment kept on distinct mirror volumes.' }),
        segmentSeconds: Type.Integer({ minimum: 10, maximum: 600, default: 60, description: 'Length of a recording segment file.' }),
        signalLossSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 5, description: 'A camera delivering no frame for this long raises the signal-loss alarm (NVR-5.1.2.1a).' }),
        syncEachFragment: Type.Boolean({ default: true, description: 'fdatasync every fragment: a power cut loses at most the fragment in flight.' }),
        freeSpaceWarnPercent: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Free space below which a volume raises a warning alarm (NVR-5.2.8.1a).' }),
        healthCheckSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 10, description: 'How often each volume is probed (marker readable, a write succeeds, free space).' }),
        verifyEveryHours: Type.Integer({ minimum: 1, maximum: 168, default: 24, description: 'Every stored segment is re-hashed against its signed catalog row this often (NVR-5.2.8.1b).' }),
      },
      { default: {} },
    ),
    devices: Type.Object(
      {
        mtlsEnabled: Type.Boolean({ default: false, description: 'Open the device sync listener: door controllers with a device-CA certificate attest, pull credential sets and push events over mutual TLS (ACS-5.1.1.4/6).' }),
        mtlsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8444, description: 'Port of the device sync listener. 0 picks a free port (printed at start).' }),
        hostnames: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { default: [], maxItems: 16, description: 'Extra host names controllers use to reach the listener (in its certificate).' }),
        allowedMeasurements: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { default: [], maxItems: 64, description: 'SHA-256 software measurements accepted at attestation besides this build\'s own (other controller versions).' }),
      },
      { default: {} },
    ),
    controller: Type.Object(
      {
        // `vigil controller` (the edge door controller) reads dataDir, keyring.kekFile, log and
        // this section; the platform sections above do not apply to it.
        platform: Type.String({ default: '', maxLength: 300, description: 'HTTPS address HOST:PORT of the platform this controller enrols with (vigil controller enrol). The device sync port comes back in the enrolment answer.' }),
        platformCaFile: Type.String({ default: '', maxLength: 1024, description: 'PEM file of the certificate (or its CA) the platform\'s HTTPS listener presents, copied from the platform by the installer: the only trust anchor of the enrolment (validated, never skipped).' }),
        syncIntervalSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 5, description: 'Seconds between two pulls of the credential set and pushes of buffered events while the platform is reachable.' }),
        reconnectMaxSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 60, description: 'Upper bound of the jittered exponential backoff between reconnection attempts (ACS-5.4.2.4).' }),
        eventCapacity: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 100_000, description: 'Decisions kept (encrypted, hash-chained, on disk) while the platform is unreachable; beyond it the oldest is dropped and the platform told how many (ACS-5.4.2.3).' }),
        doors: Type.Array(
          Type.Object(
            {
              id: Type.String({ minLength: 1, maxLength: 128, description: 'Door ID as the platform names it (credential sets list these IDs).' }),
              reader: Type.String({ minLength: 1, maxLength: 300, description: 'OSDP line of the door\'s reader: tcp:HOST:PORT (OSDP over IP) or a serial device path /dev/... (RS-485 adapter or pty).' }),
              readerAddress: Type.Integer({ minimum: 0, maximum: 126, default: 0, description: 'OSDP address of the reader on its line.' }),
              lockOutput: Type.Integer({ minimum: 0, maximum: 255, default: 0, description: 'Reader (PD) output driving the lock relay: held off (locked) at start, pulsed on a grant.' }),
              unlockSeconds: Type.Integer({ minimum: 1, maximum: 25, default: 5, description: 'How long a grant releases the lock.' }),
              pinTimeoutSeconds: Type.Integer({ minimum: 3, maximum: 60, default: 10, description: 'Card-and-PIN doors: seconds after the card within which the PIN must be typed and ended with #; a card alone is refused after it.' }),
              maxOfflineMinutes: Type.Integer({ minimum: 0, maximum: 43_200, default: 240, description: 'Minutes the door keeps deciding from the last credential set without a sync; after that it denies everyone (fail secure). 0 for doors that must never decide offline.' }),
            },
            { additionalProperties: false },
          ),
          { default: [], maxItems: 64, description: 'Doors driven by this controller, one OSDP reader each. Readers get their own Secure Channel key at installation (vigil controller --install-readers), never the default key (ACS-5.1.1.5).' },
        ),
      },
      { default: {} },
    ),
    discovery: Type.Object(
      {
        // Whether each protocol answers is not configuration: it is an administrator's runtime
        // toggle kept in the store, off on a fresh install (NVR-5.3.2.1a, CAM-5.3.2.2). Only the
        // ports are configured here, on http.host.
        wsDiscoveryPort: Type.Integer({ minimum: 0, maximum: 65535, default: 3702, description: 'UDP port of the ONVIF WS-Discovery responder (camera role), when an administrator turns it on. 0 picks a free port.' }),
        ssdpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1900, description: 'UDP port of the SSDP (UPnP) responder, when an administrator turns it on. 0 picks a free port.' }),
        mdnsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 5353, description: 'UDP port of the mDNS (Bonjour) responder, when an administrator turns it on. 0 picks a free port.' }),
        snmpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 161, description: 'UDP port of the read-only SNMPv3 agent, when an administrator turns it on. 0 picks a free port.' }),
        answersPerSourcePerMinute: Type.Integer({ minimum: 1, maximum: 6000, default: 60, description: 'Answers each source address gets per minute from each discovery responder; more requests are dropped.' }),
      },
      { default: {} },
    ),
    backup: Type.Object(
      {
        schedule: Type.Object(
          {
            enabled: Type.Boolean({ default: false, description: 'Scheduled automatic backup of video (NVR-5.1.5.1c).' }),
            everyHours: Type.Integer({ minimum: 1, maximum: 744, default: 24, description: 'Hours between scheduled backups.' }),
            kind: Type.Union([Type.Literal('incremental'), Type.Literal('full')], { default: 'incremental', description: 'incremental copies only segments the target lacks; full also relists every segment.' }),
            target: Type.String({ default: '', maxLength: 1024, description: 'Backup directory: a second internal disk or a removable medium mount point. Must exist; an unmounted medium is refused, never filled.' }),
            recoveryPassphraseEnv: Type.String({ default: '', maxLength: 128, description: 'Environment variable holding the recovery passphrase (>= 12 characters) that lets a replacement device restore the backups.' }),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    hardware: Type.Object(
      {
        pollSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 2, description: 'How often network links and USB devices are read; every plug, unplug and link change is audited (NVR-5.1.2.1c, CAM-T-phys-3).' }),
        interfaces: Type.Array(Type.String({ pattern: '^(\\*|[A-Za-z0-9_.:@-]{1,15})$' }), {
          default: [],
          maxItems: 64,
          description: "Network interfaces watched: names, or '*' for all but loopback. Empty: every interface backed by a device (the physical ports). A watched link going down raises an alarm (NVR-5.1.2.1a).",
        }),
        sysfsRoot: Type.String({ default: '/sys', maxLength: 1024, description: 'Where sysfs is mounted (change only in containers that mount the host sysfs elsewhere).' }),
      },
      { default: {} },
    ),
    camera: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Run the software IP camera role: encode a source and serve it over RTSP/RTSPS (CAM-*).' }),
        source: Type.Union([Type.Literal('test-pattern'), Type.Literal('file'), Type.Literal('replay'), Type.Literal('v4l2'), Type.Literal('rtsp')], {
          default: 'test-pattern',
          description: 'Video source: a test pattern, a looped file (re-encoded), a pre-encoded H.264 file replayed as live without re-encoding (no privacy masks; fps must match the file), a V4L2 device or an upstream RTSP URL (no credentials in it).',
        }),
        sourcePath: Type.String({ default: '', maxLength: 1024, description: 'File path (file, replay), V4L2 device (/dev/video0) or upstream rtsp:// URL, per source.' }),
        width: Type.Integer({ minimum: 160, maximum: 3840, default: 1920, description: 'Encoded width in pixels.' }),
        height: Type.Integer({ minimum: 120, maximum: 2160, default: 1080, description: 'Encoded height in pixels.' }),
        fps: Type.Integer({ minimum: 1, maximum: 60, default: 30, description: 'Frames per second.' }),
        bitrateKbps: Type.Integer({ minimum: 100, maximum: 50_000, default: 4000, description: 'H.264 bit rate.' }),
        gop: Type.Integer({ minimum: 1, maximum: 600, default: 30, description: 'Keyframe interval in frames.' }),
        privacyMasks: Type.Array(
          Type.Object({ x: Type.Number({ minimum: 0, maximum: 1 }), y: Type.Number({ minimum: 0, maximum: 1 }), width: Type.Number({ minimum: 0, maximum: 1 }), height: Type.Number({ minimum: 0, maximum: 1 }) }),
          { default: [], maxItems: 16, description: 'Rectangles (fractions of the picture) blacked out before encoding (CAM-5.5.1.2).' },
        ),
        rtspPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Plain RTSP port (Digest only). 0: off — RTSPS is the default transport.' }),
        rtspsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 322, description: 'RTSPS port (RTSP over TLS with the device certificate); always on with the camera role. 0 picks a free port (printed at start).' }),
        digestAlgorithms: Type.Array(Type.Union([Type.Literal('SHA-256'), Type.Literal('MD5')]), {
          default: ['SHA-256'],
          minItems: 1,
          description: 'RTSP Digest algorithms offered. Add MD5 only for recorders that lack SHA-256 (ffmpeg, older NVRs).',
        }),
        localRecording: Type.Object(
          {
            enabled: Type.Boolean({ default: false, description: 'Record the camera\'s own stream on this device (edge storage), sealed under the device-bound key so a copied disk is unreadable elsewhere (CAM-5.1.1.2).' }),
            retentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 3, description: 'Local recordings older than this are crypto-shredded (a ring buffer; the oldest also go when a volume runs out of space).' }),
          },
          { default: {} },
        ),
        digestLegacyOverTls: Type.Boolean({
          default: false,
          description: 'Also accept RFC 2069 Digest (MD5 without qop/nonce count, as GStreamer 1.22 rtspsrc sends it) on RTSPS only, where it cannot be captured and replayed. Needs MD5 in digestAlgorithms.',
        }),
      },
      { default: {} },
    ),
    alarms: Type.Object(
      {
        webhooks: Type.Array(
          Type.Object({
            url: Type.String({ description: 'HTTPS URL receiving alarm notifications as JSON POSTs.' }),
            secretEnv: Type.String({ default: '', description: 'Environment variable holding the HMAC-SHA256 key that signs each delivery (X-Vigil-Signature).' }),
            caFile: Type.String({
              default: '',
              description: 'PEM file of the CA certificate(s) trusted for this webhook instead of the system roots (e.g. a private CA). Certificate validation is always on.',
            }),
          }),
          { default: [], description: 'Webhook receivers of alarm notifications (retried with backoff).' },
        ),
        webhookAllowLoopbackHttp: Type.Boolean({
          default: false,
          description: 'Allow http:// webhook URLs on loopback only (tests, a local relay). Any other webhook must be https://.',
        }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type Config = Static<typeof ConfigSchema>;

export interface ConfigSources {
  /** Path of a JSON config file, if any. */
  file?: string | undefined;
  /** Environment to read VIGIL_* variables from. */
  env?: NodeJS.ProcessEnv;
  /** Values set programmatically (tests, CLI flags); highest priority. */
  overrides?: DeepPartial<Config>;
  /** Base directory for relative paths (default: process.cwd()). */
  baseDir?: string;
}

export type DeepPartial<T> = T extends ReadonlyArray<unknown> ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: true, strict: false });
const validate = ajv.compile<Config>(ConfigSchema);

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const baseDir = sources.baseDir ?? process.cwd();
  const file = sources.file ?? env['VIGIL_CONFIG'];
  let raw: Record<string, unknown> = {};
  if (file !== undefined && file !== '') {
    try {
      raw = asRecord(JSON.parse(readFileSync(file, 'utf8')), file);
    } catch (err) {
      if (err instanceof VigilError) throw err;
      throw new VigilError('VIGIL_CONFIG_FILE_UNREADABLE', `cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  mergeInto(raw, envToObject(env));
  if (sources.overrides !== undefined) mergeInto(raw, sources.overrides as Record<string, unknown>);
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
    throw new VigilError('VIGIL_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, { details: { problems } });
  }
  const config = raw;
  config.dataDir = path.resolve(baseDir, config.dataDir);
  config.keyring.kekFile = path.resolve(baseDir, config.keyring.kekFile);
  for (const v of config.video.volumes) v.path = path.resolve(baseDir, v.path);
  if (config.controller.platformCaFile !== '') config.controller.platformCaFile = path.resolve(baseDir, config.controller.platformCaFile);
  if (config.backup.schedule.target !== '') config.backup.schedule.target = path.resolve(baseDir, config.backup.schedule.target);
  checkCrossFieldRules(config);
  return config;
}

function checkCrossFieldRules(config: Config): void {
  const problems: string[] = [];
  const rel = path.relative(config.dataDir, config.keyring.kekFile);
  if (config.keyring.kek === 'file' && !rel.startsWith('..') && !path.isAbsolute(rel)) {
    problems.push('/keyring/kekFile must be outside dataDir (NVR-5.1.2.1b: a copied data volume must not carry its key)');
  }
  if (config.database.driver === 'postgres' && config.database.postgresUrl === '') {
    problems.push('/database/postgresUrl is required when driver is postgres');
  }
  if (config.keyring.kek === 'pkcs11' && (config.keyring.pkcs11Module === '' || config.keyring.pkcs11TokenLabel === '')) {
    problems.push('/keyring/pkcs11Module and /keyring/pkcs11TokenLabel are required when kek is pkcs11');
  }
  if (config.camera.source === 'replay' && config.camera.privacyMasks.length > 0) {
    problems.push('/camera/privacyMasks cannot apply to source replay (nothing is re-encoded); use source file');
  }
  if (config.camera.digestLegacyOverTls && !config.camera.digestAlgorithms.includes('MD5')) {
    problems.push('/camera/digestLegacyOverTls needs MD5 in /camera/digestAlgorithms (RFC 2069 Digest is MD5 only)');
  }
  const doorIds = config.controller.doors.map((d) => d.id);
  if (new Set(doorIds).size !== doorIds.length) problems.push('/controller/doors ids must be unique');
  for (const d of config.controller.doors) {
    if (!/^tcp:[^:\s]+:\d{1,5}$|^tcp:\[[0-9a-fA-F:]+\]:\d{1,5}$|^\/dev\/[A-Za-z0-9/_.-]+$/.test(d.reader) || d.reader.includes('..')) problems.push(`/controller/doors ${d.id}: reader is tcp:HOST:PORT or a /dev/... serial path`);
  }
  const ids = config.video.volumes.map((v) => v.id);
  if (new Set(ids).size !== ids.length) problems.push('/video/volumes ids must be unique');
  const paths = config.video.volumes.map((v) => v.path);
  if (new Set(paths).size !== paths.length) problems.push('/video/volumes paths must be distinct');
  const mirrors = config.video.volumes.filter((v) => v.role === 'mirror').length;
  if (config.video.volumes.length > 0 && mirrors < config.video.mirrorCopies) {
    problems.push(`/video/volumes needs at least ${config.video.mirrorCopies} mirror volumes for mirrorCopies=${config.video.mirrorCopies}`);
  }
  const target = config.backup.schedule.target;
  if (config.backup.schedule.enabled && target === '') problems.push('/backup/schedule/target is required when scheduled backups are enabled');
  const inside = (dir: string): boolean => target !== '' && !path.relative(dir, target).startsWith('..') && !path.isAbsolute(path.relative(dir, target));
  if (inside(config.dataDir) || config.video.volumes.some((v) => inside(v.path))) problems.push('/backup/schedule/target must not be inside dataDir or a video volume');
  if ((config.tls.certFile === '') !== (config.tls.keyFile === '')) {
    problems.push('/tls/certFile and /tls/keyFile must be given together');
  }
  if (problems.length > 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, { details: { problems } });
  }
}

/** VIGIL_HTTP__PORT=9443 → { http: { port: '9443' } }; JSON arrays/objects are parsed. */
function envToObject(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('VIGIL_') || name === 'VIGIL_CONFIG' || value === undefined) continue;
    const keys = name.slice('VIGIL_'.length).split('__').map(envKeyToProperty);
    const parsed = value.startsWith('[') || value.startsWith('{') ? parseJsonEnv(name, value) : value;
    let node = out;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) node[key] = parsed;
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}

/** DATA_DIR → dataDir, LOCKOUT_THRESHOLD → lockoutThreshold. */
function envKeyToProperty(key: string): string {
  return key.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function parseJsonEnv(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new VigilError('VIGIL_CONFIG_INVALID', `environment variable ${name} is not valid JSON`);
  }
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `${where}: the configuration must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) mergeInto(current, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flattened view of the schema for the generated documentation. */
export interface ConfigOptionDoc {
  path: string;
  env: string;
  type: string;
  default: string;
  range: string;
  description: string;
}

export function describeConfig(schema: TSchema = ConfigSchema, prefix: string[] = []): ConfigOptionDoc[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const rows: ConfigOptionDoc[] = [];
  for (const [key, sub] of Object.entries(props)) {
    const p = [...prefix, key];
    const s = sub as TSchema & Record<string, unknown>;
    if (s['type'] === 'object' && s['properties'] !== undefined) {
      rows.push(...describeConfig(sub, p));
      continue;
    }
    rows.push({
      path: p.join('.'),
      env: 'VIGIL_' + p.map((k) => k.replace(/([A-Z])/g, '_$1').toUpperCase()).join('__'),
      type: schemaType(s),
      default: JSON.stringify(s['default']),
      range: schemaRange(s),
      description: String(s['description'] ?? ''),
    });
  }
  return rows;
}

function schemaType(s: Record<string, unknown>): string {
  const anyOf = s['anyOf'];
  if (Array.isArray(anyOf)) return anyOf.map((a: { const?: unknown }) => JSON.stringify(a.const)).join(' \\| ');
  if (s['type'] === 'array') return 'array';
  return String(s['type']);
}

function schemaRange(s: Record<string, unknown>): string {
  const min = s['minimum'] ?? s['minLength'];
  const max = s['maximum'] ?? s['maxLength'];
  if (min === undefined && max === undefined) return '';
  return `${String(min ?? '')}–${String(max ?? '')}`;
}
