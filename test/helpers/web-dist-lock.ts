// web/dist is one directory shared by every browser test: each rebuilds it (`vite build` empties
// it first) and web-ui.test.ts briefly tampers with a file in it. `npm test` runs test files in
// parallel, so the browser tests take this lock for their whole run. The lock is a directory
// (mkdir is atomic) holding the owner's pid; a lock whose owner died is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './vigil-process.ts';

const LOCK_DIR = path.join(ROOT, 'test-artifacts', '.web-dist.lock');
const WAIT_MS = 10 * 60_000;
const POLL_MS = 250;

function ownerAlive(): boolean {
  const pid = Number(readFileSync(path.join(LOCK_DIR, 'pid'), { encoding: 'utf8', flag: 'r' }).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (bounded) for web/dist, then holds it until the returned release is called. */
export async function lockWebDist(): Promise<() => void> {
  mkdirSync(path.dirname(LOCK_DIR), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let alive = true;
    try {
      alive = ownerAlive();
    } catch {
      // The owner has made the directory but not yet written its pid: wait.
    }
    if (!alive) rmSync(LOCK_DIR, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`web/dist stayed locked by another test for ${WAIT_MS / 1000} s (${LOCK_DIR})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
