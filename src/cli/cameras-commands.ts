// `vigil cameras add|list|remove`: manage cameras from the console (same service and audit as the
// API; a running service picks the change up within 30 s). The camera password is read from
// standard input, never from the command line where other users could see it in `ps`.
import { readFileSync } from 'node:fs';
import { RECORDING_MODES, type CameraInput, type RecordingMode } from '../video/cameras/camera-service.ts';
import { VigilError } from '../core/errors.ts';
import { configFrom, configOption, stringOption, type Command } from './command-args.ts';
import { readSecretLine } from './prompt.ts';
import { openRuntime } from './runtime.ts';

const CONSOLE = { sourceIp: 'local', userAgent: 'vigil-cli' };

function integer(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text)) throw new VigilError('VIGIL_VALIDATION', `${field}: a whole number`, { details: { field } });
  return Number(text);
}

export const CAMERAS_COMMANDS: readonly Command[] = [
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
