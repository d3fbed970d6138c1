// `vigil devices token|list|revoke|trust`: edge devices (door controllers, locks, readers) from
// the console. The enrolment token is shown once and stored only hashed (ACS-5.1.1.11); revoking
// a device cuts its next request off the device listener (ACS-5.1.1.4).
import { userInfo } from 'node:os';
import { DEVICE_KINDS } from '../device/device-ca.ts';
import { configFrom, configOption, stringOption, type Command } from './command-args.ts';
import { openRuntime, type Runtime } from './runtime.ts';

function by(): { actor: string; source: string } {
  return { actor: `console:${userInfo().username}`, source: 'local' };
}

async function withRuntime(args: Parameters<Command['run']>[0], work: (runtime: Runtime) => Promise<number>): Promise<number> {
  const runtime = await openRuntime(configFrom(args));
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

export const DEVICES_COMMANDS: readonly Command[] = [
  {
    name: 'devices token',
    usage: 'DEVICE-ID --kind controller|lock|reader [--ttl-hours N] [--config FILE]',
    summary: 'Create a one-time enrolment token for an edge device (shown once; default validity 24 h)',
    options: { ...configOption, kind: { type: 'string', help: `device kind: ${DEVICE_KINDS.join(' | ')}` }, 'ttl-hours': { type: 'string', help: 'hours the token stays valid (1-168)' } },
    run: async (args) => {
      const deviceId = args.positionals[0];
      const kind = stringOption(args, 'kind');
      if (deviceId === undefined || kind === undefined || !(DEVICE_KINDS as readonly string[]).includes(kind)) {
        console.error(`vigil devices token: DEVICE-ID and --kind (${DEVICE_KINDS.join(', ')}) are required`);
        return 2;
      }
      const hours = stringOption(args, 'ttl-hours');
      if (hours !== undefined && !/^\d{1,3}$/.test(hours)) {
        console.error('vigil devices token: --ttl-hours is a whole number of hours');
        return 2;
      }
      return withRuntime(args, async (runtime) => {
        const { token, expiresAt } = await runtime.enrolment.createToken({ deviceId, kind: kind as (typeof DEVICE_KINDS)[number], ...(hours === undefined ? {} : { ttlMs: Number(hours) * 3_600_000 }), by: by() });
        console.log(`enrolment token for ${deviceId} (valid until ${new Date(expiresAt).toISOString()}, one use):`);
        console.log(token);
        return 0;
      });
    },
  },
  {
    name: 'devices list',
    usage: '[--config FILE]',
    summary: 'List edge devices with their state, attestation trust and certificate expiry',
    options: { ...configOption },
    run: (args) =>
      withRuntime(args, async (runtime) => {
        for (const d of await runtime.devices.list()) {
          console.log([d.id, d.kind, d.status, d.trust, d.cert_not_after === null ? '-' : new Date(d.cert_not_after).toISOString()].join('\t'));
        }
        return 0;
      }),
  },
  {
    name: 'devices revoke',
    usage: 'DEVICE-ID --reason TEXT [--config FILE]',
    summary: 'Revoke a device certificate: the device is refused from its next request on',
    options: { ...configOption, reason: { type: 'string', help: 'why (audited)' } },
    run: async (args) => {
      const id = args.positionals[0];
      const reason = stringOption(args, 'reason');
      if (id === undefined || reason === undefined) {
        console.error('vigil devices revoke: DEVICE-ID and --reason are required');
        return 2;
      }
      return withRuntime(args, async (runtime) => {
        await runtime.devices.revoke(id, reason, by());
        console.log(`revoked ${id}`);
        return 0;
      });
    },
  },
  {
    name: 'devices trust',
    usage: 'DEVICE-ID [--config FILE]',
    summary: 'Trust again a device whose attestation failed, after checking it (clears the alarm)',
    options: { ...configOption },
    run: async (args) => {
      const id = args.positionals[0];
      if (id === undefined) {
        console.error('vigil devices trust: DEVICE-ID is required');
        return 2;
      }
      return withRuntime(args, async (runtime) => {
        await runtime.devices.trust(id, by());
        console.log(`trusted ${id}`);
        return 0;
      });
    },
  },
];
