// `vigil factory-reset` (NVR-5.1.3.2b, CAM-T-phys-7): the only way back to factory state, from
// the device's own console with the service stopped. It never restores a known password: it
// destroys the key-encryption key first (every DEK it wrapped — user secrets, device keys,
// recordings — is unrecoverable from that moment, in copies too), then erases the database and
// the recording volumes, so the next `vigil start` is a first run with a new key, a new device
// identity and a new one-time setup token. Off-device backups are not touched: they are sealed
// for the recovery passphrase, which is the point of having them.
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.ts';
import { destroyKeyEncryptionKey } from '../crypto/keyring.ts';
import { openStore } from '../store/database.ts';
import { volumeSpecsOf } from '../video/storage/video-store.ts';
import { MARKER_FILE } from '../video/storage/volumes.ts';
import { acquireServiceLock } from './service-lock.ts';

const LOCK_FILE = 'vigil.lock';
/** Kept on a volume that is a file system's root. */
const KEEP_ON_VOLUME = new Set(['lost+found']);
const ZERO_CHUNK = 1024 * 1024;

/** Overwrites a file with zeros and flushes it (plaintext rows of the database). */
function zeroFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    const zeros = Buffer.alloc(ZERO_CHUNK);
    const size = fstatSync(fd).size;
    for (let at = 0; at < size; at += ZERO_CHUNK) writeSync(fd, zeros, 0, Math.min(ZERO_CHUNK, size - at), at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function emptyDirectory(dir: string, keep: ReadonlySet<string>): number {
  let removed = 0;
  for (const entry of readdirSync(dir)) {
    if (keep.has(entry)) continue;
    rmSync(path.join(dir, entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Erases this device's keys, database and recordings; returns what it did, line by line. */
export async function factoryReset(config: Config): Promise<string[]> {
  const lock = acquireServiceLock(config.dataDir); // refuses while the service runs
  const done: string[] = [];
  try {
    // 1. The key first: whatever happens next, nothing sealed can be opened again.
    done.push(destroyKeyEncryptionKey(config.keyring)
      ? `destroyed the key-encryption key (${config.keyring.kek === 'pkcs11' ? `token ${config.keyring.pkcs11TokenLabel}, object ${config.keyring.pkcs11KeyLabel}` : config.keyring.kekFile})`
      : `no key-encryption key at ${config.keyring.kekFile}`);

    // 2. The database: users, sessions, audit, catalog, wrapped keys.
    if (config.database.driver === 'postgres') {
      const store = await openStore({ driver: 'postgres', url: config.database.postgresUrl });
      try {
        const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
        for (const t of tables) await store.db.schema.dropTable(t.name).ifExists().cascade().execute();
        done.push(`dropped ${tables.length} tables from the PostgreSQL database`);
      } finally {
        await store.close();
      }
    } else {
      const file = path.resolve(config.dataDir, config.database.sqliteFile);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        if (!existsSync(f)) continue;
        zeroFile(f);
        rmSync(f);
      }
      done.push(`overwrote and removed the SQLite database ${file}`);
    }

    // 3. Recording volumes: only directories whose marker says they are this device's volume.
    for (const spec of volumeSpecsOf(config.video, config.dataDir)) {
      if (!existsSync(spec.path)) continue;
      const marker = existsSync(path.join(spec.path, MARKER_FILE)) ? readFileSync(path.join(spec.path, MARKER_FILE), 'utf8').trim() : '';
      if (marker !== spec.id) {
        done.push(`left volume ${spec.id} (${spec.path}) untouched: its marker does not name it (its recordings are unreadable without the destroyed key)`);
        continue;
      }
      done.push(`erased volume ${spec.id} (${spec.path}): ${emptyDirectory(spec.path, KEEP_ON_VOLUME)} entries`);
    }

    // 4. Everything else of the device: certificates, device keys, staging, caches.
    done.push(`erased the data directory ${config.dataDir}: ${emptyDirectory(config.dataDir, new Set([LOCK_FILE]))} entries`);
    return done;
  } finally {
    lock.release();
  }
}
