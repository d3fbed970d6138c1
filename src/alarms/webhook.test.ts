// Webhook delivery: HTTPS only, certificate validation always on, HMAC-signed bodies, bounded
// retries (NVR-5.2.7.2a alarm delivery, ACS-5.2.1.14 active alert).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isVigilError } from '../core/errors.ts';
import { silentLogger, waitFor } from '../audit/test-doubles.ts';
import { WebhookDispatcher, validateWebhookUrl } from './webhook.ts';
import { startHttpsReceiver, type TestReceiver } from './test-receiver.ts';

let dir = '';
const receivers: TestReceiver[] = [];
const dispatchers: WebhookDispatcher[] = [];
const FAST = { baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 };

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-webhook-'));
});
after(async () => {
  for (const d of dispatchers) d.close();
  for (const r of receivers) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(name: string, status?: (n: number) => number): Promise<TestReceiver> {
  const r = await startHttpsReceiver(dir, name, status);
  receivers.push(r);
  return r;
}

function dispatcher(webhooks: Array<{ url: string; secretEnv?: string; caFile?: string }>, attempts = 8): WebhookDispatcher {
  const d = WebhookDispatcher.create({
    webhooks: webhooks.map((w) => ({ url: w.url, secretEnv: w.secretEnv ?? '', caFile: w.caFile ?? '' })),
    allowLoopbackHttp: false,
    logger: silentLogger(),
    env: { VIGIL_TEST_HOOK_SECRET: 'k3y-for-hmac' },
    tuning: { ...FAST, attempts },
  });
  dispatchers.push(d);
  return d;
}

test('delivered over HTTPS to a receiver trusted through caFile; the receiver verifies the HMAC', async () => {
  const r = await receiver('good');
  const d = dispatcher([{ url: r.url, secretEnv: 'VIGIL_TEST_HOOK_SECRET', caFile: r.certFile }]);
  const body = JSON.stringify({ eventId: 'e1', type: 'alarm.raised', at: '2026-01-01T00:00:00.000Z', alarm: { type: 'audit.store_failed' } });
  d.enqueue({ id: 'e1', at: '2026-01-01T00:00:00.000Z', body });
  await waitFor(() => d.stats().delivered === 1, 'delivery');
  const req = r.received[0];
  assert.ok(req !== undefined);
  assert.equal(req.method, 'POST');
  assert.equal(req.body, body);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-vigil-event-id'], 'e1');
  assert.equal(req.headers['x-vigil-timestamp'], '2026-01-01T00:00:00.000Z');
  const expected = `sha256=${createHmac('sha256', 'k3y-for-hmac').update(req.body).digest('hex')}`;
  assert.equal(req.headers['x-vigil-signature'], expected);
  // a receiver with the wrong key would reject it
  assert.notEqual(req.headers['x-vigil-signature'], `sha256=${createHmac('sha256', 'other').update(req.body).digest('hex')}`);
  assert.deepEqual({ ...d.stats(), lastErrorAt: null }, { delivered: 1, failedAttempts: 0, givenUp: 0, dropped: 0, queued: 0, lastError: null, lastErrorAt: null });
});

test('a receiver failing twice then succeeding gets the notification after retries, same event id', async () => {
  const r = await receiver('flaky', (n) => (n < 2 ? 503 : 204));
  const d = dispatcher([{ url: r.url, caFile: r.certFile }]);
  d.enqueue({ id: 'e2', at: '2026-01-01T00:00:00.000Z', body: '{"n":2}' });
  await waitFor(() => d.stats().delivered === 1, 'delivery after retries');
  assert.equal(r.received.length, 3);
  assert.deepEqual(r.received.map((q) => q.headers['x-vigil-event-id']), ['e2', 'e2', 'e2']);
  assert.equal(r.received[0]?.headers['x-vigil-signature'], undefined); // no secretEnv: unsigned
  const s = d.stats();
  assert.equal(s.failedAttempts, 2);
  assert.match(s.lastError ?? '', /HTTP 503/);
});

test('a receiver whose certificate is not trusted never gets the notification; failures are counted', async () => {
  const r = await receiver('untrusted');
  const d = dispatcher([{ url: r.url }], 3); // system roots only
  d.enqueue({ id: 'e3', at: '2026-01-01T00:00:00.000Z', body: '{}' });
  await waitFor(() => d.stats().givenUp === 1, 'give up');
  assert.equal(r.received.length, 0);
  const s = d.stats();
  assert.equal(s.delivered, 0);
  assert.equal(s.failedAttempts, 3);
  assert.match(s.lastError ?? '', /certificate/i);
});

test('a certificate from another CA than caFile is refused too', async () => {
  const r = await receiver('pinned');
  const other = await receiver('other-ca');
  const d = dispatcher([{ url: r.url, caFile: other.certFile }], 2);
  d.enqueue({ id: 'e4', at: '2026-01-01T00:00:00.000Z', body: '{}' });
  await waitFor(() => d.stats().givenUp === 1, 'give up');
  assert.equal(r.received.length, 0);
});

test('the outbound queue is bounded: the oldest notification is dropped', async () => {
  const d = WebhookDispatcher.create({
    webhooks: [{ url: 'https://127.0.0.1:1/never', secretEnv: '', caFile: '' }],
    allowLoopbackHttp: false,
    logger: silentLogger(),
    tuning: { queueCap: 3, attempts: 1, timeoutMs: 1000, baseDelayMs: 5, maxDelayMs: 5 },
  });
  dispatchers.push(d);
  for (let i = 0; i < 10; i++) d.enqueue({ id: `q${String(i)}`, at: '2026-01-01T00:00:00.000Z', body: '{}' });
  // one in flight, three waiting, six dropped
  assert.equal(d.stats().dropped, 6);
  assert.equal(d.stats().queued, 4);
});

test('only https:, or http: on loopback when allowed, are accepted (VIGIL_WEBHOOK_URL_INVALID)', () => {
  const invalid = (url: string, allowLoopbackHttp: boolean): boolean => {
    try {
      validateWebhookUrl(url, allowLoopbackHttp);
      return false;
    } catch (err) {
      return isVigilError(err, 'VIGIL_WEBHOOK_URL_INVALID');
    }
  };
  assert.equal(invalid('http://example.com/hook', true), true);
  assert.equal(invalid('http://10.0.0.5/hook', true), true);
  assert.equal(invalid('http://127.0.0.1:8080/hook', false), true);
  assert.equal(invalid('http://127.0.0.1:8080/hook', true), false);
  assert.equal(invalid('http://[::1]:8080/hook', true), false);
  assert.equal(invalid('ftp://example.com/hook', true), true);
  assert.equal(invalid('file:///etc/passwd', true), true);
  assert.equal(invalid('javascript:alert(1)', true), true);
  assert.equal(invalid('https://user:pass@example.com/hook', false), true);
  assert.equal(invalid('not a url', false), true);
  assert.equal(invalid('https://example.com/hook', false), false);
  assert.throws(
    () => WebhookDispatcher.create({ webhooks: [{ url: 'http://example.com/x', secretEnv: '', caFile: '' }], allowLoopbackHttp: false, logger: silentLogger() }),
    (err: unknown) => isVigilError(err, 'VIGIL_WEBHOOK_URL_INVALID'),
  );
});
