// The edge roles as commands (issue #6): `vigil controller enrol`, `vigil controller` (the door
// controller process) and `vigil reader --simulate` (an OSDP reader for installers and tests).
// Each parses, calls one service, prints, returns an exit code. The enrolment token is read from
// a file or standard input, never from the command line (where `ps` would show it).
import { readFileSync } from 'node:fs';
import { startController } from '../access/controller/controller-role.ts';
import { ControllerState } from '../access/controller/controller-state.ts';
import { startSimulatedReader } from '../access/reader/simulated-reader.ts';
import { VigilError } from '../core/errors.ts';
import { EdgeKeyring } from '../crypto/edge-keyring.ts';
import { enrolWithPlatform, parseHostPort } from '../device/enrol-client.ts';
import { configFrom, configOption, stringOption, type Command } from './command-args.ts';
import { readSecretLine } from './prompt.ts';

const print = (line: string): void => console.log(line);

/** Runs until SIGTERM/SIGINT, then stops cleanly. */
async function untilSignal(stop: () => Promise<void>, closed?: Promise<void>): Promise<number> {
  let signalled: NodeJS.Signals | undefined;
  await new Promise<void>((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      signalled = s;
      resolve();
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    closed?.then(resolve, resolve);
  });
  await stop();
  if (signalled !== undefined) print(`stopped (${signalled})`);
  return 0;
}

export const EDGE_COMMANDS: readonly Command[] = [
  {
    name: 'controller enrol',
    usage: '--config FILE [--platform HOST:PORT] [--platform-ca PEM] [--token-file FILE]',
    summary: 'Enrol this door controller with the platform using a one-time token (from vigil devices token ID --kind controller); the token is read from --token-file or standard input',
    options: {
      ...configOption,
      platform: { type: 'string', help: 'platform HTTPS address HOST:PORT (default: controller.platform)' },
      'platform-ca': { type: 'string', help: 'PEM of the platform HTTPS certificate or its CA (default: controller.platformCaFile)' },
      'token-file': { type: 'string', help: 'file holding the one-time token (default: read from standard input)' },
    },
    run: async (args) => {
      const config = configFrom(args);
      const platform = stringOption(args, 'platform') ?? config.controller.platform;
      const caFile = stringOption(args, 'platform-ca') ?? config.controller.platformCaFile;
      if (platform === '' || caFile === '') {
        console.error('vigil controller enrol: the platform address and its certificate are needed (--platform, --platform-ca or controller.platform, controller.platformCaFile)');
        return 2;
      }
      const keyring = EdgeKeyring.open(config.keyring.kekFile, config.dataDir);
      try {
        const state = new ControllerState(config.dataDir, keyring);
        if (state.enrolled) throw new VigilError('VIGIL_EDGE_ALREADY_ENROLLED', `this controller is already enrolled (as ${state.identity().deviceId}); a factory reset gives it a new identity`);
        const tokenFile = stringOption(args, 'token-file');
        const token = (tokenFile === undefined ? await readSecretLine('enrolment token: ') : readFileSync(tokenFile, 'utf8')).trim();
        const answer = await enrolWithPlatform({ platform, caPem: readFileSync(caFile, 'utf8'), token });
        if (answer.kind !== 'controller') throw new VigilError('VIGIL_DEVICE_ENROLMENT_INVALID', `the token was for a ${answer.kind}, not a controller`);
        if (answer.syncPort === null) throw new VigilError('VIGIL_DEVICE_UNREACHABLE', 'the platform has no device sync listener (devices.mtlsEnabled is off there)');
        state.saveIdentity({ deviceId: answer.deviceId, keyPem: answer.keyPem, certPem: answer.certPem, caCertPem: answer.caCertPem, platformKeyPem: answer.platformKeyPem, syncHost: parseHostPort(platform, 'the platform address').host, syncPort: answer.syncPort });
        print(`enrolled as controller ${answer.deviceId}; device sync at ${platform.replace(/:\d+$/, '')}:${answer.syncPort}. Start it with: vigil controller --config FILE`);
        return 0;
      } finally {
        keyring.close();
      }
    },
  },
  {
    name: 'controller',
    usage: '--config FILE [--install-readers]',
    summary: 'Run the edge door controller: decides locally (also offline), drives its OSDP readers and locks, syncs with the platform over mTLS',
    options: {
      ...configOption,
      'install-readers': { type: 'boolean', help: 'install readers that have no key yet: default key once, then a unique random one (installer action, ACS-5.1.1.5)' },
    },
    run: async (args) => {
      const running = await startController(configFrom(args), { installReaders: args.values['install-readers'] === true, print });
      return untilSignal(running.stop);
    },
  },
  {
    name: 'reader',
    usage: '--simulate (--listen HOST:PORT | --pty PATH) [--address N] [--install-mode] [--config FILE]',
    summary: 'Simulate an OSDP card reader (Secure Channel): type `card FC:NUMBER`, `card PAYLOAD` or `pin DIGITS` on standard input',
    options: {
      ...configOption,
      simulate: { type: 'boolean', help: 'run the simulated reader (the only mode)' },
      listen: { type: 'string', help: 'OSDP over TCP: listen on HOST:PORT for the controller' },
      pty: { type: 'string', help: 'OSDP over a serial line: a /dev/... tty or pty (e.g. one end of a socat pty pair)' },
      address: { type: 'string', help: 'OSDP address 0-126 (default 0)' },
      'install-mode': { type: 'boolean', help: 'accept the default install key once so the controller can install a unique key (ACS-5.1.1.5)' },
    },
    run: async (args) => {
      if (args.values['simulate'] !== true) {
        console.error('vigil reader: only --simulate is available (real readers are OSDP hardware)');
        return 2;
      }
      const listen = stringOption(args, 'listen');
      const pty = stringOption(args, 'pty');
      const address = Number(stringOption(args, 'address') ?? '0');
      if (!Number.isInteger(address) || address < 0 || address > 126 || (listen === undefined) === (pty === undefined)) {
        console.error('vigil reader: one of --listen HOST:PORT or --pty PATH, and --address 0-126');
        return 2;
      }
      const config = configFrom(args);
      const keyring = EdgeKeyring.open(config.keyring.kekFile, config.dataDir);
      try {
        const reader = await startSimulatedReader({
          ...(listen === undefined ? {} : { listen: parseHostPort(listen, '--listen', true) }),
          ...(pty === undefined ? {} : { pty }),
          address,
          installMode: args.values['install-mode'] === true,
          keyring,
          dataDir: config.dataDir,
          input: process.stdin,
          print,
        });
        return await untilSignal(reader.stop, reader.closed);
      } finally {
        keyring.close();
      }
    },
  },
];
