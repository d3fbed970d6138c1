// One service per data directory: a second `vigil start` on the same data would record into the
// same segments and run crash recovery on the first one's open files. The lock file holds the
// owner's pid; a lock left by a dead process is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../core/errors.ts';

export interface ServiceLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireServiceLock(dataDir: string): ServiceLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'vigil.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new VigilError('VIGIL_SERVICE_RUNNING', `another Vigil service (pid ${owner}) uses the data directory ${dataDir}`);
      }
      rmSync(file, { force: true }); // left by a process that is gone
    }
  }
  throw new VigilError('VIGIL_SERVICE_RUNNING', `cannot take the service lock in ${dataDir}`);
}
