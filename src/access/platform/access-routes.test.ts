// The access API on a minimal Fastify app with the real access gate, error handler and schemas
// (a test, so it may reach into http; product code in src/access never does, design.md §8):
// every route starts (declarations complete), scoping and default deny hold, PINs are write-only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { createTestStore, type TestStore } from '../../../test/helpers/stores.ts';
import { RecordingAlarmSink, RecordingAuditSink } from '../../audit/test-doubles.ts';
import { ManualClock } from '../../core/clock.ts';
import { VigilError } from '../../core/errors.ts';
import { Keyring } from '../../crypto/keyring.ts';
import { installAccessGate, requireRouteDeclarations } from '../../http/access.ts';
import { installErrorHandling } from '../../http/errors.ts';
import { accessRoutes } from '../../http/routes/access.ts';
import type { Grant } from '../../identity/permissions.ts';
import type { Principal } from '../../identity/types.ts';
import { createAccessPlatform } from './platform.ts';

const USERS: Record<string, Grant[]> = {
  admin: [{ role: 'administrator', scopeKind: 'global', scopeId: '' }],
  operator: [{ role: 'operator', scopeKind: 'global', scopeId: '' }],
  viewer: [{ role: 'viewer', scopeKind: 'global', scopeId: '' }],
};

function principal(username: string, grants: Grant[]): Principal {
  return { userId: username, username, grants, authMethod: 'api-token', mfaPassed: true, mfaEnrolmentRequired: false, passwordChangeRequired: false, passwordExpiresInDays: 90 };
}

describe('access routes', () => {
  let ts: TestStore;
  let keyring: Keyring;
  let app: FastifyInstance;
  const root = mkdtempSync(path.join(tmpdir(), 'vigil-access-routes-'));
  const audit = new RecordingAuditSink();

  before(async () => {
    ts = await createTestStore('sqlite');
    const clock = new ManualClock(Date.parse('2026-11-23T09:00:00Z'));
    keyring = await Keyring.open({ config: { kek: 'file', kekFile: path.join(root, 'kek.key'), pkcs11Module: '', pkcs11TokenLabel: '', pkcs11KeyLabel: 'k', pkcs11PinFile: '' }, store: ts.store, clock });
    const platform = createAccessPlatform({ store: ts.store, keys: keyring, audit, alarms: new RecordingAlarmSink(), clock });
    app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } } }) as unknown as FastifyInstance;
    requireRouteDeclarations(app);
    await app.register(fastifyCookie);
    installErrorHandling(app);
    installAccessGate(app, {
      audit,
      auth: {
        setupRequired: async () => false,
        authenticateApiToken: async (token) => {
          const grants = USERS[token];
          if (grants === undefined) throw new VigilError('VIGIL_AUTH_FAILED', 'bad token');
          return principal(token, grants);
        },
        authenticateSession: async () => {
          throw new VigilError('VIGIL_AUTH_REQUIRED', 'no sessions here');
        },
        verifyCsrf: async () => false,
      },
    });
    await app.register(accessRoutes, { services: { access: platform } });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await keyring?.close();
    await ts?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const call = async (user: string | null, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) => {
    const r = await app.inject({ method, url, ...(user === null ? {} : { headers: { authorization: `Bearer ${user}` } }), ...(payload === undefined ? {} : { payload }) });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> & { error?: { code: string } } };
  };

  test('administrator sets up a door; viewer sees it but cannot change it; anonymous gets 401 and no data', async () => {
    const site = await call('admin', 'POST', '/api/v1/access/sites', { name: 'HQ', timezone: 'Europe/Berlin' });
    assert.equal(site.status, 201);
    const door = await call('admin', 'POST', '/api/v1/access/doors', { siteId: site.body['id'], name: 'Front', lockOutput: 1 });
    assert.equal(door.status, 201, JSON.stringify(door.body));
    assert.equal((await call('viewer', 'GET', '/api/v1/access/doors')).status, 200);
    USERS['scoped'] = [{ role: 'viewer', scopeKind: 'door', scopeId: String(door.body['id']) }];
    assert.equal((await call('viewer', 'POST', '/api/v1/access/sites', { name: 'Other' })).body.error?.code, 'VIGIL_FORBIDDEN');
    assert.equal((await call('operator', 'POST', '/api/v1/access/cardholders', { name: 'Eve' })).body.error?.code, 'VIGIL_FORBIDDEN');
    const anon = await call(null, 'GET', '/api/v1/access/doors');
    assert.equal(anon.status, 401);
    assert.equal(anon.body['doors'], undefined);
  });

  test('lockdown needs door.control: operator may, viewer may not', async () => {
    const sites = (await call('viewer', 'GET', '/api/v1/access/sites')).body['sites'] as Array<{ id: string }>;
    const id = sites[0]?.id ?? '';
    assert.equal((await call('viewer', 'PUT', `/api/v1/access/sites/${id}/lockdown`, { lockdown: true })).body.error?.code, 'VIGIL_FORBIDDEN');
    const on = await call('operator', 'PUT', `/api/v1/access/sites/${id}/lockdown`, { lockdown: true });
    assert.deepEqual([on.status, on.body['lockdown']], [200, true]);
    assert.ok(audit.events.some((e) => e.action === 'access.lockdown.on' && e.actor === 'user:operator'));
  });

  test('PINs are write-only and schema-checked; unknown fields refused', async () => {
    const holder = await call('admin', 'POST', '/api/v1/access/cardholders', { name: 'Ada' });
    const cred = await call('admin', 'POST', '/api/v1/access/credentials', { cardholderId: holder.body['id'], cardFormat: 'h10301', cardNumber: '4242', pin: '135790' });
    assert.equal(cred.status, 201);
    assert.equal(cred.body['hasPin'], true);
    assert.ok(!JSON.stringify(cred.body).includes('135790') && !JSON.stringify(cred.body).includes('hmac'));
    assert.equal((await call('admin', 'POST', '/api/v1/access/credentials', { cardholderId: holder.body['id'], cardFormat: 'h10301', cardNumber: '4243', pin: '12' })).status, 400);
    assert.equal((await call('admin', 'POST', '/api/v1/access/cardholders', { name: 'Bob', pinHash: 'x' })).status, 400);
  });

  test('an explicit null validity is "no limit", not 1970 (type coercion must not turn null into 0)', async () => {
    const holder = await call('admin', 'POST', '/api/v1/access/cardholders', { name: 'Nia', validFrom: null, validUntil: null });
    assert.equal(holder.status, 201);
    assert.deepEqual([holder.body['validFrom'], holder.body['validUntil']], [null, null]);
    const cred = await call('admin', 'POST', '/api/v1/access/credentials', { cardholderId: holder.body['id'], cardFormat: 'h10301', cardNumber: '4250', validUntil: null });
    assert.equal(cred.status, 201);
    assert.equal(cred.body['validUntil'], null);
    const until = Date.UTC(2030, 0, 1);
    const dated = await call('admin', 'POST', '/api/v1/access/credentials', { cardholderId: holder.body['id'], cardFormat: 'h10301', cardNumber: '4251', validUntil: until });
    assert.equal(dated.body['validUntil'], until);
  });

  test('CSV import through the API returns the per-row report', async () => {
    const r = await call('admin', 'POST', '/api/v1/access/import', { csv: 'name,card_format,card_number\nGrace,raw,9001\nBad,raw,x' });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body['imported'], r.body['failed']], [1, 1]);
  });

  test('events list is door.view; a request for a door outside the grant is refused', async () => {
    const events = await call('viewer', 'GET', '/api/v1/access/events?limit=10');
    assert.equal(events.status, 200);
    assert.ok(Array.isArray(events.body['events']));
    const doors = (await call('admin', 'GET', '/api/v1/access/doors')).body['doors'] as Array<{ id: string }>;
    const granted = doors[0]?.id ?? '';
    const other = (await call('admin', 'POST', '/api/v1/access/doors', { siteId: (await call('admin', 'GET', `/api/v1/access/doors/${granted}`)).body['siteId'], name: 'Back', lockOutput: 2 })).body['id'];
    assert.equal((await call('scoped', 'GET', `/api/v1/access/events?doorId=${granted}`)).status, 200);
    assert.equal((await call('scoped', 'GET', `/api/v1/access/events?doorId=${String(other)}`)).body.error?.code, 'VIGIL_FORBIDDEN');
    assert.equal((await call('scoped', 'GET', `/api/v1/access/doors/${String(other)}`)).body.error?.code, 'VIGIL_FORBIDDEN');
    const listed = (await call('scoped', 'GET', '/api/v1/access/doors')).body['doors'] as Array<{ id: string }>;
    assert.deepEqual(listed.map((d) => d.id), [granted]);
  });
});
