// `vigil verify BUNDLE`: offline verification of an evidence bundle (NVR-5.2.8.1b) — no device,
// database or network needed; the same checks as the web UI's "Verify evidence" page.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringOption, type Command } from '../../cli/command-args.ts';
import { readSecretLine } from '../../cli/prompt.ts';
import { VigilError } from '../../core/errors.ts';
import { CLIP_DIR, MAX_BUNDLE_BYTES } from './evidence-format.ts';
import { verifyEvidence } from './evidence-verify.ts';

export const VERIFY_COMMAND: Command = {
  name: 'verify',
  usage: 'BUNDLE [--public-key PEM] [--password] [--extract DIR]',
  summary: 'Verify an evidence bundle offline: device signature, every file hash, the recording chain (exit 0 only if intact)',
  options: {
    'public-key': { type: 'string', help: "the device's Ed25519 signing key (PEM) from its administrator: pins the signer" },
    password: { type: 'boolean', help: 'the bundle is encrypted: read its password from standard input' },
    extract: { type: 'string', help: 'after a successful verification, write the clips into this directory' },
  },
  run: async (args) => {
    const file = args.positionals[0];
    if (file === undefined) {
      console.error('vigil verify: BUNDLE is required');
      return 2;
    }
    if (statSync(file).size > MAX_BUNDLE_BYTES) throw new VigilError('VIGIL_PAYLOAD_TOO_LARGE', `${file} is larger than any evidence bundle`);
    const keyFile = stringOption(args, 'public-key');
    const password = args.values['password'] === true ? await readSecretLine('bundle password: ') : undefined;
    const result = await verifyEvidence(readFileSync(file), {
      ...(keyFile === undefined ? {} : { trustedPublicKeyPem: readFileSync(keyFile, 'utf8') }),
      ...(password === undefined ? {} : { password }),
    });
    const m = result.manifest;
    if (m !== null) {
      console.log(`export ${m.exportId}: camera "${m.camera.name}" (${m.camera.id}), ${m.requested.from} → ${m.requested.to}`);
      console.log(`exported ${m.exportedAt} by ${m.exportedBy}${m.reason === null ? '' : ` — reason: ${m.reason}`}; device "${m.device.name}" ${m.device.product} ${m.device.version}`);
    }
    for (const p of result.problems) console.log(`FAIL ${p.file}: ${p.message}`);
    if (!result.ok) {
      console.log(`bundle FAILED verification: ${result.problems.length} problem(s)`);
      return 1;
    }
    console.log(`bundle OK: ${result.checkedFiles} files and ${result.checkedSegments} recorded segments verified, signed by device key ${result.keyId ?? '?'}${result.encrypted ? ' (decrypted)' : ''}`);
    if (result.pinned === 'not-given') {
      console.log('WARNING: the signing key was not pinned: pass --public-key with the device key obtained from its administrator to prove which device signed this bundle');
    }
    const out = stringOption(args, 'extract');
    if (out !== undefined) {
      mkdirSync(out, { recursive: true });
      for (const [name, bytes] of Object.entries(result.entries)) {
        if (!name.startsWith(CLIP_DIR)) continue;
        const target = path.join(out, path.basename(name));
        writeFileSync(target, bytes, { flag: 'wx' });
        console.log(`wrote ${target}`);
      }
    }
    return 0;
  },
};
