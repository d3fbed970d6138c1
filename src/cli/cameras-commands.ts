// `vigil cameras add|list|remove`: manage cameras from the console (same service and audit as the
// API; a running service picks the change up within 30 s). The camera password is read from
// standard input, never from the command line where other users could see it in `ps`.
import { readFileSync } from 'node:fs';
import { RECORDING_MODES, type CameraInput, type RecordingMode } from '../video/cameras/camera-service.ts';
import { VigilError } from '../core/errors.ts';
import { configFrom, configOption, stringOption, type Command } from './command-args.ts';
import { confirmOnTerminal, readSecretLine } from './prompt.ts';
import { OnvifEnrolment, type CertificateView } from '../video/cameras/onvif-enrolment.ts';
import { isVigilError } from '../core/errors.ts';
import { openRuntime } from './runtime.ts';

const CONSOLE = { sourceIp: 'local', userAgent: 'vigil-cli' };

function integer(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text)) throw new VigilError('VIGIL_VALIDATION', `${field}: a whole number`, { details: { field } });
  return Number(text);
}

function printCertificate(label: string, c: CertificateView): void {
  console.log(`${label}\n  SHA-256 fingerprint: ${c.fingerprint256}\n  subject: ${c.subject}\n  issuer: ${c.issuer}${c.selfSigned ? ' (self-signed)' : ''}\n  valid: ${c.validFrom} to ${c.validTo}`);
}

/**
 * The fingerprint the admin confirms: given with --fingerprint (scripts: compared by the
 * service, never trusted blindly), or confirmed on the terminal after comparing it with the
 * one the camera shows. Without either, nothing is trusted.
 */
async function confirmedFingerprint(given: string | undefined, seen: CertificateView, what: string): Promise<string | undefined> {
  if (given !== undefined) return given;
  if (!(await confirmOnTerminal(`Is this exactly the fingerprint ${what} shows? Trust it for this camera (yes/no): `))) return undefined;
  return seen.fingerprint256;
}

async function addOnvif(args: Parameters<Command['run']>[0]): Promise<number> {
  const address = args.positionals[0];
  const username = stringOption(args, 'username');
  if (address === undefined || username === undefined) {
    console.error('vigil cameras add-onvif: the ONVIF address (https URL or host[:port]) and --username are required');
    return 2;
  }
  const mode = stringOption(args, 'mode');
  if (mode !== undefined && !(RECORDING_MODES as readonly string[]).includes(mode)) {
    console.error(`vigil cameras add-onvif: --mode is one of ${RECORDING_MODES.join(', ')}`);
    return 2;
  }
  const runtime = await openRuntime(configFrom(args));
  try {
    const enrolment = new OnvifEnrolment({ cameras: runtime.cameras, audit: runtime.audit });
    // Step 1: the certificate, read without sending anything.
    const probe = await enrolment.probe(address, CONSOLE);
    printCertificate(`${probe.deviceUrl} presents this TLS certificate:`, probe.certificate);
    const fingerprint = await confirmedFingerprint(stringOption(args, 'fingerprint'), probe.certificate, 'the camera (its system information or label)');
    if (fingerprint === undefined) {
      console.error('vigil cameras add-onvif: not confirmed; nothing was sent to the camera. Compare the fingerprint with the camera, then confirm, or pass --fingerprint.');
      return 3;
    }
    const password = await readSecretLine(`ONVIF password of ${username} on the camera: `);
    const host = new URL(probe.deviceUrl).hostname.replace(/[^\p{L}\p{N} ._-]/gu, '-');
    const input = {
      address, fingerprint256: fingerprint, username, password,
      name: stringOption(args, 'name') ?? `ONVIF ${host}`.slice(0, 64),
      ...(stringOption(args, 'profile') === undefined ? {} : { profileToken: stringOption(args, 'profile') }),
      ...(stringOption(args, 'stream-fingerprint') === undefined ? {} : { streamFingerprint256: stringOption(args, 'stream-fingerprint') }),
      ...(args.values['accept-unencrypted'] === true ? { acceptUnencrypted: true } : {}),
      ...(mode === undefined ? {} : { recordingMode: mode as RecordingMode }),
    };
    let added;
    try {
      added = await enrolment.add(input, CONSOLE);
    } catch (err) {
      // The RTSPS server shows another certificate than the device: confirm that one too.
      const stream = isVigilError(err, 'VIGIL_ONVIF_RTSPS_UNCONFIRMED') ? String(err.details?.['streamFingerprint256'] ?? '') : '';
      if (stream === '' || input.streamFingerprint256 !== undefined) throw err;
      console.log(`The RTSPS stream server presents another certificate:\n  SHA-256 fingerprint: ${stream}`);
      if (!(await confirmOnTerminal('Is this the stream certificate the camera shows? Trust it too (yes/no): '))) {
        console.error('vigil cameras add-onvif: the stream certificate was not confirmed; nothing was added');
        return 3;
      }
      added = await enrolment.add({ ...input, streamFingerprint256: stream }, CONSOLE);
    }
    if (!added.stream.secure) console.warn('WARNING: this camera is recorded over plain RTSP: its video and RTSP credentials cross the network unencrypted.');
    console.log(`added camera ${added.camera.name}: ${added.camera.id}\n  stream ${added.stream.url}${added.camera.tlsFingerprint256 === null ? '' : `\n  pinned certificate ${added.camera.tlsFingerprint256}`}`);
    return 0;
  } finally {
    await runtime.close();
  }
}

export const CAMERAS_COMMANDS: readonly Command[] = [
  {
    name: 'cameras add-onvif',
    usage: 'https://HOST[:PORT] | HOST[:PORT] --username USER [--fingerprint SHA256] [--name NAME] [--profile TOKEN] [--stream-fingerprint SHA256] [--accept-unencrypted] [--mode continuous|scheduled|off] [--config FILE]',
    summary: 'Add a camera by ONVIF: shows its TLS certificate fingerprint to confirm (or checks --fingerprint), then pins it; the password is read from standard input',
    options: {
      ...configOption,
      username: { type: 'string', help: 'ONVIF account on the camera (also used for RTSP); the password follows on standard input' },
      fingerprint: { type: 'string', help: 'SHA-256 fingerprint of the camera certificate as the camera shows it (scripts); without it you are asked to confirm' },
      name: { type: 'string', help: 'display name (default: "ONVIF <host>")' },
      profile: { type: 'string', help: 'ONVIF media profile token (default: the first H.264 profile)' },
      'stream-fingerprint': { type: 'string', help: 'SHA-256 fingerprint of the RTSPS server certificate, when it differs from the device certificate' },
      'accept-unencrypted': { type: 'boolean', help: 'accept a camera that offers plain RTSP only (video and RTSP credentials unencrypted)' },
      mode: { type: 'string', help: `recording mode: ${RECORDING_MODES.join(' | ')} (default continuous)` },
    },
    run: addOnvif,
  },
  {
    name: 'cameras add',
    usage: '--name NAME --url rtsp(s)://HOST/PATH [--username USER] [--ca-file PEM] [--fingerprint SHA256] [--mode continuous|scheduled|off] [--retention-days N] [--config FILE]',
    summary: 'Add a camera to record (with --username, its password is read from standard input and stored sealed)',
    options: {
      ...configOption,
      name: { type: 'string', help: 'display name (unique)' },
      url: { type: 'string', help: 'rtsp:// or rtsps:// URL without credentials' },
      username: { type: 'string', help: 'camera account; the password follows on standard input' },
      'ca-file': { type: 'string', help: 'PEM certificate trusted for RTSPS (the camera CA, or its self-signed certificate)' },
      fingerprint: { type: 'string', help: 'pin the RTSPS certificate: SHA-256 fingerprint AA:BB:…' },
      mode: { type: 'string', help: `recording mode: ${RECORDING_MODES.join(' | ')} (default continuous)` },
      'retention-days': { type: 'string', help: 'days recordings are kept (default 30)' },
    },
    run: async (args) => {
      const name = stringOption(args, 'name');
      const url = stringOption(args, 'url');
      if (name === undefined || url === undefined) {
        console.error('vigil cameras add: --name and --url are required');
        return 2;
      }
      const mode = stringOption(args, 'mode');
      if (mode !== undefined && !(RECORDING_MODES as readonly string[]).includes(mode)) {
        console.error(`vigil cameras add: --mode is one of ${RECORDING_MODES.join(', ')}`);
        return 2;
      }
      const input: CameraInput = { name, url };
      const username = stringOption(args, 'username');
      if (username !== undefined) Object.assign(input, { username, password: await readSecretLine(`password of ${username} on the camera: `) });
      const caFile = stringOption(args, 'ca-file');
      if (caFile !== undefined) input.tlsCaPem = readFileSync(caFile, 'utf8');
      const fingerprint = stringOption(args, 'fingerprint');
      if (fingerprint !== undefined) input.tlsFingerprint256 = fingerprint.toUpperCase();
      if (mode !== undefined) input.recordingMode = mode as RecordingMode;
      const retention = integer(stringOption(args, 'retention-days'), 'retention-days');
      if (retention !== undefined) input.retentionDays = retention;
      const runtime = await openRuntime(configFrom(args));
      try {
        const camera = await runtime.cameras.create(input, CONSOLE);
        console.log(`added camera ${camera.name}: ${camera.id}`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'cameras list',
    usage: '[--config FILE]',
    summary: 'List the cameras (credentials are never shown)',
    options: { ...configOption },
    run: async (args) => {
      const runtime = await openRuntime(configFrom(args));
      try {
        for (const c of await runtime.cameras.list()) {
          console.log([c.id, c.name, c.url, c.recordingMode, `${c.retentionDays}d`, c.enabled ? 'enabled' : 'disabled', c.hasCredentials ? 'credentials set' : 'no credentials'].join('\t'));
        }
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
  {
    name: 'cameras remove',
    usage: 'ID [--config FILE]',
    summary: 'Remove a camera (its recordings stay until their retention ends)',
    options: { ...configOption },
    run: async (args) => {
      const id = args.positionals[0];
      if (id === undefined) {
        console.error('vigil cameras remove: the camera ID is required (see vigil cameras list)');
        return 2;
      }
      const runtime = await openRuntime(configFrom(args));
      try {
        await runtime.cameras.delete(id, CONSOLE);
        console.log(`removed camera ${id}`);
        return 0;
      } finally {
        await runtime.close();
      }
    },
  },
];
