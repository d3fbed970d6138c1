// Default deny at start-up (design.md §2, NVR-5.4.2.2a): a route without an access declaration,
// or without a schema for what it takes and returns, stops the server from starting. Built on
// the real runtime (real store, keyring, identity, audit) in a private directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { loadConfig } from '../../src/core/config.ts';
import { isVigilError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/logger.ts';
import { loadDeviceTls } from '../../src/crypto/tls.ts';
import { appServicesOf, openRuntime, type Runtime } from '../../src/cli/runtime.ts';
import { buildApp } from '../../src/http/app.ts';
import { access } from '../../src/http/access.ts';
import type { AppServices } from '../../src/http/services.ts';

const Reply = { 200: Type.Object({ ok: Type.Boolean() }) };

describe('route declarations are enforced at start-up', () => {
  let dir: string;
  let runtime: Runtime;
  let services: AppServices;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-routes-'));
    const config = loadConfig({ env: {}, file: undefined, baseDir: dir });
    Object.assign(config, { dataDir: path.join(dir, 'data'), keyring: { ...config.keyring, kekFile: path.join(dir, 'keyring', 'kek.key') } });
    runtime = await openRuntime(config, { logger: createLogger({ level: 'silent' }) });
    const tls = await loadDeviceTls({ dataDir: config.dataDir, keyring: runtime.keyring, deviceName: 'test', hostnames: ['localhost'], tlsConfig: config.tls });
    services = {
      ...appServicesOf(runtime),
      tls: { current: () => tls, install: async () => tls },
      listening: () => [],
      recording: () => new Map(),
      origin: () => 'https://localhost',
      webOrigins: () => ['https://localhost'],
    };
  });
  after(async () => {
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startWith(route: (app: FastifyInstance) => Promise<void>): Promise<unknown> {
    try {
      const app = await buildApp({ config: runtime.config, logger: createLogger({ level: 'silent' }), services, extraRoutes: [route] });
      await app.close();
      return undefined;
    } catch (err) {
      return err;
    }
  }

  test('the product routes themselves start (control)', async () => {
    assert.equal(await startWith(async (app) => {
      app.get('/api/v1/test/declared', { config: { access: access.permission('system.read') }, schema: { response: Reply } }, async () => ({ ok: true }));
    }), undefined);
  });

  test('a route with no access declaration refuses to start with VIGIL_ROUTE_PERMISSION_MISSING', async () => {
    const err = await startWith(async (app) => {
      app.get('/api/v1/test/forgotten', { schema: { response: Reply } }, async () => ({ ok: true }));
    });
    assert.ok(isVigilError(err, 'VIGIL_ROUTE_PERMISSION_MISSING'), String(err));
    assert.match((err as Error).message, /GET \/api\/v1\/test\/forgotten declares no access/);
  });

  test('a route with no response, params or body schema refuses to start', async () => {
    const cases: Array<[string, (app: FastifyInstance) => void]> = [
      ['response', (app) => app.get('/api/v1/test/a', { config: { access: access.user() } }, async () => ({ ok: true }))],
      ['params', (app) => app.get('/api/v1/test/b/:id', { config: { access: access.user() }, schema: { response: Reply } }, async () => ({ ok: true }))],
      ['body', (app) => app.post('/api/v1/test/c', { config: { access: access.user() }, schema: { response: Reply } }, async () => ({ ok: true }))],
    ];
    for (const [missing, add] of cases) {
      const err = await startWith(async (app) => add(app));
      assert.ok(isVigilError(err, 'VIGIL_ROUTE_PERMISSION_MISSING'), `${missing}: ${String(err)}`);
      assert.match((err as Error).message, new RegExp(`no ${missing} schema`));
    }
  });
});
