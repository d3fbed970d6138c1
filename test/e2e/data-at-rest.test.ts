// What a stolen disk or a failing store gives away, tested on the real process:
// - NVR-5.2.4.1a (CAM-5.1.1.2, ACS-5.1.1.5 equivalents): no password, TOTP secret, API token,
//   session token or private key is stored in plaintext anywhere in the data directory (the
//   SQLite file, its WAL, the TLS directory).
// - NVR-5.2.7.2a: when security events cannot be stored an alarm is raised and shown, and no
//   event is lost once the store recovers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { authenticator } from 'otplib';
import { startVigil, type VigilProcess } from '../helpers/vigil-process.ts';
import { ApiClient } from '../helpers/https-client.ts';
import { requireTool, runTool } from '../helpers/tools.ts';

const ADMIN = { username: 'vault-admin', password: 'Quartz-Orchard-3141' };
type Alarm = { type: string; severity: string; state: string; message: string };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

/** RFC 4648 base32 → bytes (the TOTP secret as the authenticator app holds it). */
function base32Bytes(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('data at rest and audit store failure (real process)', () => {
  let vigil: VigilProcess;
  let api: ApiClient;
  const secrets = new Map<string, Buffer>();

  before(async () => {
    // No mandatory MFA for administrators here: this suite is about storage, not login.
    vigil = await startVigil({ config: { security: { mfaRequiredRoles: [], authRateLimitPerMinute: 600 } } });
    api = new ApiClient(vigil.baseUrl, vigil.caPem);
    const setup = await api.post('/api/v1/setup', { token: vigil.setupToken, ...ADMIN });
    assert.equal(setup.status, 201, setup.text);
    const login = await api.post<{ csrfToken: string }>('/api/v1/auth/login', ADMIN);
    assert.equal(login.status, 200, login.text);
    api.csrfToken = login.body.csrfToken;
  });
  after(async () => {
    await vigil?.dispose();
  });

  test('NVR-5.2.7.2a: an audit store that refuses writes raises a critical alarm; events are kept and written on recovery', async () => {
    const sqlite = requireTool('sqlite3', 'sqlite3');
    const db = path.join(vigil.dataDir, 'vigil.db');
    // The store refuses every new security event, as a full or failing disk would.
    const broken = await runTool(sqlite, ['-cmd', '.timeout 5000', db, "create trigger vigil_test_disk_full before insert on audit_events begin select raise(abort, 'database or disk is full'); end;"]);
    assert.equal(broken.code, 0, broken.stderr);
    const marker = 'ghost-user-during-outage';
    assert.equal((await api.anonymous().post('/api/v1/auth/login', { username: marker, password: 'Not-The-Password-1' })).status, 401);

    const alarm = await waitFor('the audit.store_failed alarm', async () => {
      const r = await api.get<{ alarms: Alarm[] }>('/api/v1/alarms?state=active');
      return r.body.alarms.find((a) => a.type === 'audit.store_failed');
    });
    assert.equal(alarm.severity, 'critical');

    const repaired = await runTool(sqlite, ['-cmd', '.timeout 5000', db, 'drop trigger vigil_test_disk_full;']);
    assert.equal(repaired.code, 0, repaired.stderr);
    const kept = await waitFor('the held event to be written', async () => {
      const r = await api.get<{ events: Array<{ target: string; outcome: string }> }>('/api/v1/audit/events?limit=500');
      return r.body.events.find((e) => e.target === `user:${marker}`);
    });
    assert.equal(kept.outcome, 'failure');
    await waitFor('the alarm to clear', async () => {
      const r = await api.get<{ alarms: Alarm[] }>('/api/v1/alarms?state=cleared');
      return r.body.alarms.find((a) => a.type === 'audit.store_failed');
    });
    const verify = await api.get<{ ok: boolean }>('/api/v1/audit/verify');
    assert.equal(verify.body.ok, true, verify.text);
  });

  test('NVR-5.2.4.1a: passwords, TOTP secrets, tokens and keys never appear in plaintext in the data directory', async () => {
    const enrol = await api.post<{ secret: string }>('/api/v1/auth/mfa/totp/enrol', {});
    assert.equal(enrol.status, 200, enrol.text);
    assert.equal((await api.post('/api/v1/auth/mfa/totp/confirm', { code: authenticator.generate(enrol.body.secret) })).status, 200);
    const token = await api.post<{ token: string }>('/api/v1/auth/tokens', { name: 'backup-robot' });
    assert.equal(token.status, 201, token.text);
    const operator = await api.post('/api/v1/users', { username: 'night-guard', password: 'Saffron-Beacon-2718', grants: [{ role: 'operator', scopeKind: 'global' }] });
    assert.equal(operator.status, 201, operator.text);

    secrets.set('administrator password', Buffer.from(ADMIN.password));
    secrets.set('operator password', Buffer.from('Saffron-Beacon-2718'));
    secrets.set('TOTP secret (base32)', Buffer.from(enrol.body.secret));
    secrets.set('TOTP secret (bytes)', base32Bytes(enrol.body.secret));
    secrets.set('API token', Buffer.from(token.body.token));
    secrets.set('session token', Buffer.from(api.cookies.get('__Host-vigil_session') ?? 'missing'));
    secrets.set('setup token', Buffer.from(vigil.setupToken ?? 'missing'));
    const kek = readFileSync(path.join(vigil.dir, 'keyring', 'kek.key'));
    secrets.set('key-encryption key file', kek);

    // Stop the service so everything is flushed (and the WAL is searched as well as the database).
    await vigil.stop();
    const files = filesUnder(vigil.dataDir);
    assert.ok(files.some((f) => f.endsWith('vigil.db')), files.join(', '));
    assert.ok(!files.some((f) => f.startsWith(path.dirname(path.join(vigil.dir, 'keyring', 'kek.key')))), 'the KEK is kept outside the data directory');
    // Positive control: the search does see stored data (user names are not secret).
    assert.ok(files.some((f) => readFileSync(f).includes('night-guard')), 'the user name is found, so the search reads the real store');
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const [name, secret] of secrets) {
        assert.ok(secret.length >= 16, `${name} is a real secret`);
        assert.equal(bytes.indexOf(secret), -1, `${name} found in plaintext in ${path.relative(vigil.dataDir, file)}`);
      }
      assert.doesNotMatch(bytes.toString('latin1'), /-----BEGIN [A-Z ]*PRIVATE KEY-----/, `a private key in plaintext in ${file}`);
    }
  });
});
