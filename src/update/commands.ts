// `vigil update …`: keys, build (vendor side), verify, apply, rollback, verify-install, status
// (NVR-5.2.3.1a-d, CAM-T-sys-3..7, ACS-5.5.1.1-3/7). Each command parses, calls one function,
// prints, and returns an exit code; errors reach the CLI's one handler as VigilErrors.
import { stringOption, type Command, type CommandArgs } from '../cli/command-args.ts';
import { buildPackage } from './build.ts';
import { applyPackage, installStatus, rollbackInstall } from './install.ts';
import { generateUpdateKeys, readDevicePrivateKey, readDevicePublicKey, readVendorPublicKey, readVendorSigningKey } from './keys.ts';
import { verifyInstalledSlot } from './launch-integrity.ts';
import { verifyPackageFile } from './package-reader.ts';

function required(args: CommandArgs, command: string, names: string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const v = stringOption(args, n);
    if (v === undefined) missing.push(`--${n}`);
    else out[n] = v;
  }
  if (missing.length > 0) {
    console.error(`vigil ${command}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required`);
    return undefined;
  }
  return out;
}

function strings(args: CommandArgs, name: string): string[] {
  const v = args.values[name];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const vendorKeyOption = { 'vendor-key': { type: 'string', help: 'the vendor Ed25519 public key (PEM) the device trusts' } } as const;
const installRootOption = { 'install-root': { type: 'string', help: 'install root holding slot-a, slot-b, current and state.json' } } as const;

export const UPDATE_COMMANDS: readonly Command[] = [
  {
    name: 'update keygen',
    usage: '--out DIR [--kind vendor|device|both] [--curve x25519|p256]',
    summary: 'Create update keys: the vendor Ed25519 signing pair and/or a device X25519 (or P-256) pair; private keys are written 0600',
    options: {
      out: { type: 'string', help: 'directory for the key files (existing files are never overwritten)' },
      kind: { type: 'string', help: 'vendor | device | both (default both)' },
      curve: { type: 'string', help: 'device key curve: x25519 (default) or p256 (FIPS SP 800-56A)' },
    },
    run: async (args) => {
      const r = required(args, 'update keygen', ['out']);
      if (r === undefined) return 2;
      const kind = stringOption(args, 'kind') ?? 'both';
      const curve = stringOption(args, 'curve') ?? 'x25519';
      if ((kind !== 'vendor' && kind !== 'device' && kind !== 'both') || (curve !== 'x25519' && curve !== 'p256')) {
        console.error('vigil update keygen: --kind is vendor, device or both; --curve is x25519 or p256');
        return 2;
      }
      const keys = generateUpdateKeys(r['out'] ?? '', kind, curve === 'p256' ? 'P-256' : 'X25519');
      for (const f of keys.files) console.log(`wrote ${f}`);
      if (keys.vendorKeyId !== undefined) console.log(`vendor key id ${keys.vendorKeyId}`);
      if (keys.deviceKeyId !== undefined) console.log(`device key id ${keys.deviceKeyId}`);
      return 0;
    },
  },
  {
    name: 'update build',
    usage: '--from DIR --version X.Y.Z --signing-key PEM --device-key PUB.pem [--device-key …] --out FILE [--minimum-from X.Y.Z] [--security-floor X.Y.Z]',
    summary: 'Vendor side: package a directory, encrypted for the device keys and signed; refuses files holding private keys or credentials',
    options: {
      from: { type: 'string', help: 'directory whose regular files make up the package (no symbolic links)' },
      version: { type: 'string', help: 'package version MAJOR.MINOR.PATCH' },
      'signing-key': { type: 'string', help: 'vendor Ed25519 private key (PEM, mode 0600)' },
      'device-key': { type: 'string', multiple: true, help: 'device update public key (PEM); repeat for several device keys' },
      out: { type: 'string', help: 'package file to write' },
      'minimum-from': { type: 'string', help: 'oldest version this package installs over (default 0.0.0)' },
      'security-floor': { type: 'string', help: 'marks a security fix: nothing older than this version may run after it' },
    },
    run: async (args) => {
      const r = required(args, 'update build', ['from', 'version', 'signing-key', 'out']);
      const deviceKeyFiles = strings(args, 'device-key');
      if (r === undefined) return 2;
      if (deviceKeyFiles.length === 0) {
        console.error('vigil update build: at least one --device-key is required');
        return 2;
      }
      const minimumFrom = stringOption(args, 'minimum-from');
      const securityFloor = stringOption(args, 'security-floor');
      const result = await buildPackage({
        sourceDir: r['from'] ?? '',
        version: r['version'] ?? '',
        signingKey: readVendorSigningKey(r['signing-key'] ?? ''),
        deviceKeys: deviceKeyFiles.map(readDevicePublicKey),
        outFile: r['out'] ?? '',
        ...(minimumFrom === undefined ? {} : { minimumFromVersion: minimumFrom }),
        ...(securityFloor === undefined ? {} : { securityFloor }),
      });
      console.log(`built ${r['out']}: ${result.header.product} ${result.header.version}, ${result.files} files, ${result.bytes} bytes, encrypted for ${result.header.recipients.length} device key(s), signed by ${result.header.vendorKeyId.slice(0, 16)}…`);
      return 0;
    },
  },
  {
    name: 'update verify',
    usage: 'FILE --vendor-key PUB.pem',
    summary: 'Check a package: vendor signature, length and encrypted payload hash (no device key needed, nothing is decrypted)',
    options: { ...vendorKeyOption },
    run: async (args) => {
      const file = args.positionals[0];
      const r = required(args, 'update verify', ['vendor-key']);
      if (r === undefined) return 2;
      if (file === undefined) {
        console.error('vigil update verify: the package FILE is required');
        return 2;
      }
      const h = await verifyPackageFile(file, readVendorPublicKey(r['vendor-key'] ?? ''));
      console.log(`ok: ${h.product} ${h.version} (installs over ${h.minimumFromVersion} or later${h.securityFloor === null ? '' : `; security fix, floor ${h.securityFloor}`}), created ${h.createdAt}, ${h.recipients.length} device key(s)`);
      return 0;
    },
  },
  {
    name: 'update apply',
    usage: 'FILE --vendor-key PUB.pem --device-key PRIV.pem --install-root DIR [--current-version X.Y.Z]',
    summary: 'Install a package into the inactive slot after checking signature, version (no downgrade) and every file; then switch to it',
    options: {
      ...vendorKeyOption,
      'device-key': { type: 'string', help: 'this device\'s update private key (PEM, mode 0600)' },
      ...installRootOption,
      'current-version': { type: 'string', help: 'the version running now (default: the active slot\'s version)' },
    },
    run: async (args) => {
      const file = args.positionals[0];
      const r = required(args, 'update apply', ['vendor-key', 'device-key', 'install-root']);
      if (r === undefined) return 2;
      if (file === undefined) {
        console.error('vigil update apply: the package FILE is required');
        return 2;
      }
      const currentVersion = stringOption(args, 'current-version');
      const result = await applyPackage({
        packageFile: file,
        vendorPublicKey: readVendorPublicKey(r['vendor-key'] ?? ''),
        devicePrivateKey: readDevicePrivateKey(r['device-key'] ?? ''),
        installRoot: r['install-root'] ?? '',
        ...(currentVersion === undefined ? {} : { currentVersion }),
      });
      console.log(`installed ${result.version} (${result.files} files) into ${result.slot}; it is now active${result.previousSlot === undefined ? '' : ` (${result.previousSlot} kept for rollback)`}`);
      return 0;
    },
  },
  {
    name: 'update rollback',
    usage: '--install-root DIR --vendor-key PUB.pem',
    summary: 'Switch back to the previous slot after verifying it; refused below the floor of an installed security fix',
    options: { ...installRootOption, ...vendorKeyOption },
    run: async (args) => {
      const r = required(args, 'update rollback', ['install-root', 'vendor-key']);
      if (r === undefined) return 2;
      const result = await rollbackInstall(r['install-root'] ?? '', readVendorPublicKey(r['vendor-key'] ?? ''));
      console.log(`rolled back from ${result.fromVersion} (${result.from}) to ${result.toVersion} (${result.to})`);
      return 0;
    },
  },
  {
    name: 'update verify-install',
    usage: '--install-root DIR --vendor-key PUB.pem',
    summary: 'Launch integrity: re-hash every file of the active slot against its signed manifest; names each changed file',
    options: { ...installRootOption, ...vendorKeyOption },
    run: async (args) => {
      const r = required(args, 'update verify-install', ['install-root', 'vendor-key']);
      if (r === undefined) return 2;
      const report = await verifyInstalledSlot(r['install-root'] ?? '', readVendorPublicKey(r['vendor-key'] ?? ''));
      if (report.ok) {
        console.log(`ok: ${report.slot} ${report.version}, ${report.files} files match the signed manifest`);
        return 0;
      }
      for (const p of report.problems) console.log(`${p.problem}\t${p.path}`);
      console.error(`vigil update verify-install: ${report.slot} ${report.version}: ${report.problems.length} file(s) do not match the signed manifest`);
      return 1;
    },
  },
  {
    name: 'update status',
    usage: '--install-root DIR --vendor-key PUB.pem',
    summary: 'Show the active slot, the version in each slot, the highest installed version and the security floor',
    options: { ...installRootOption, ...vendorKeyOption },
    run: async (args) => {
      const r = required(args, 'update status', ['install-root', 'vendor-key']);
      if (r === undefined) return 2;
      const s = await installStatus(r['install-root'] ?? '', readVendorPublicKey(r['vendor-key'] ?? ''));
      console.log(`active: ${s.active ?? 'none'}`);
      for (const slot of s.slots) console.log(`${slot.slot}: ${slot.version ?? (slot.complete ? 'unverified' : 'empty')}`);
      console.log(`highest installed: ${s.highestVersion ?? 'none'}`);
      console.log(`security floor: ${s.securityFloor ?? 'none'}`);
      return 0;
    },
  },
];
