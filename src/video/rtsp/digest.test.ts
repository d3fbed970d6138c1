import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError } from '../../core/errors.ts';
import { digestHa1, digestResponse, RtspClientAuth } from './digest.ts';
import { RtspAuthenticator, staticCredentialVerifier } from './digest-server.ts';
import { parseAuthHeader } from './headers.ts';

describe('Digest, RFC 7616', () => {
  // RFC 7616 §3.9.1 example (GET /dir/index.html, user Mufasa, password "Circle of Life").
  const vector = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    realm: 'http-auth@example.org', uri: '/dir/index.html', method: 'GET', nc: '00000001', qop: 'auth' as const,
  };
  for (const [algorithm, expected] of [['MD5', '8ca523f5e9506fed4657c9700eebdbec'], ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1']] as const) {
    test(`RFC 7616 §3.9.1: ${algorithm} response of the RFC example`, () => {
      const ha1 = digestHa1(algorithm, 'Mufasa', vector.realm, 'Circle of Life');
      assert.equal(digestResponse({ ...vector, algorithm, ha1 }), expected);
    });
  }

  test('RFC 7235 §2.1: challenge parameters with quoted strings and escapes; token68', () => {
    const h = parseAuthHeader('Digest realm="a \\"b\\", c", nonce="n", algorithm=SHA-256, qop="auth, auth-int"');
    assert.equal(h.scheme, 'Digest');
    assert.equal(h.params.get('realm'), 'a "b", c');
    assert.equal(h.params.get('qop'), 'auth, auth-int');
    assert.equal(parseAuthHeader('Basic dXNlcjpwYXNz').params.get('token'), 'dXNlcjpwYXNz');
    assert.throws(() => parseAuthHeader('Digest realm="unterminated'), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_MALFORMED'));
  });

  function setup(options: { algorithms?: Array<'MD5' | 'SHA-256'>; maxTrackedNonces?: number; allowBasicOverTls?: boolean; allowLegacyDigestOverTls?: boolean } = {}) {
    const clock = new ManualClock(1_000_000);
    const server = new RtspAuthenticator({ realm: 'cam', verifier: staticCredentialVerifier(new Map([['alice', 'pw-Alice-123456']])), clock, nonceTtlMs: 60_000, ...options });
    const client = (password = 'pw-Alice-123456', user = 'alice', secure = false) => {
      const auth = new RtspClientAuth({ username: user, password }, secure);
      auth.accept(server.challenges(secure));
      return auth;
    };
    return { clock, server, client };
  }
  const URI = 'rtsp://127.0.0.1/live';

  test('CAM-T-auth-1: the client picks SHA-256 over MD5 (RFC 7616 §3.7); the server accepts it', async () => {
    const { server, client } = setup({ algorithms: ['MD5', 'SHA-256'] });
    const auth = client();
    const value = auth.authorize('DESCRIBE', URI) ?? '';
    assert.match(value, /algorithm=SHA-256/);
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, value, false), { ok: true, username: 'alice' });
  });

  test('NVR-5.4.1.1a: a replayed Authorization (same nonce count) is refused; the next count works', async () => {
    const { server, client } = setup();
    const auth = client();
    const first = auth.authorize('DESCRIBE', URI) ?? '';
    assert.equal((await server.authenticate('DESCRIBE', URI, first, false)).ok, true);
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, first, false), { ok: false, stale: true });
    assert.equal((await server.authenticate('SETUP', URI, auth.authorize('SETUP', URI), false)).ok, true);
    // The same header for another method or URI is refused (the digest covers both).
    const third = auth.authorize('PLAY', URI) ?? '';
    assert.equal((await server.authenticate('TEARDOWN', URI, third, false)).ok, false);
    assert.equal((await server.authenticate('PLAY', `${URI}/x`, third, false)).ok, false);
  });

  test('RFC 2069 Digest (no qop/nc/cnonce, GStreamer 1.22): only over TLS, only MD5, only when enabled; wrong password still refused', async () => {
    const legacyHeader = (server: RtspAuthenticator, method: string, password = 'pw-Alice-123456'): string => {
      const nonce = /nonce="([^"]+)"/.exec(server.challenges(true)[0] ?? '')?.[1] ?? '';
      const response = digestResponse({ algorithm: 'MD5', ha1: digestHa1('MD5', 'alice', 'cam', password), nonce, method, uri: URI, qop: undefined, nc: '', cnonce: '' });
      return `Digest username="alice", realm="cam", nonce="${nonce}", uri="${URI}", response="${response}"`;
    };
    const { server } = setup({ algorithms: ['SHA-256', 'MD5'], allowLegacyDigestOverTls: true });
    const header = legacyHeader(server, 'DESCRIBE');
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, header, true), { ok: true, username: 'alice' });
    assert.equal((await server.authenticate('DESCRIBE', URI, header, true)).ok, true, 'the client repeats its nonce on its TLS connection');
    assert.equal((await server.authenticate('DESCRIBE', URI, header, false)).ok, false, 'never in clear: no nonce count stops a replay there');
    assert.equal((await server.authenticate('DESCRIBE', URI, legacyHeader(server, 'DESCRIBE', 'wrong-password-1'), true)).ok, false);
    assert.equal((await server.authenticate('DESCRIBE', URI, header.replace('Digest ', 'Digest algorithm=SHA-256, '), true)).ok, false, 'RFC 2069 is MD5 only');
    const strict = setup({ algorithms: ['SHA-256', 'MD5'] }).server;
    assert.equal((await strict.authenticate('DESCRIBE', URI, legacyHeader(strict, 'DESCRIBE'), true)).ok, false, 'off by default');
  });

  test('nonce expiry → stale=true; forged nonce, wrong password and unknown user → the same refusal', async () => {
    const { clock, server, client } = setup();
    const auth = client();
    clock.advance(61_000);
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, auth.authorize('DESCRIBE', URI), false), { ok: false, stale: true });
    assert.match(server.challenges(false, true)[0] ?? '', /stale=true/);
    const forged = (auth.authorize('DESCRIBE', URI) ?? '').replace(/nonce="[^"]+"/, `nonce="${'A'.repeat(54)}"`);
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, forged, false), { ok: false, stale: false });
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, client('wrong-password').authorize('DESCRIBE', URI), false), { ok: false, stale: false });
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, client('pw-Alice-123456', 'mallory').authorize('DESCRIBE', URI), false), { ok: false, stale: false });
  });

  test('bounded nonce cache: an evicted nonce cannot be replayed (watermark)', async () => {
    const { clock, server, client } = setup({ maxTrackedNonces: 2 });
    const first = client();
    const captured = first.authorize('DESCRIBE', URI) ?? '';
    assert.equal((await server.authenticate('DESCRIBE', URI, captured, false)).ok, true);
    for (let i = 0; i < 3; i += 1) {
      clock.advance(10);
      const other = client();
      assert.equal((await server.authenticate('DESCRIBE', URI, other.authorize('DESCRIBE', URI), false)).ok, true);
    }
    assert.deepEqual(await server.authenticate('DESCRIBE', URI, captured, false), { ok: false, stale: true });
  });

  test('CAM-T-com-1: Basic is refused in clear by both sides, allowed over TLS only when enabled', async () => {
    const { server } = setup({ allowBasicOverTls: true });
    const basic = `Basic ${Buffer.from('alice:pw-Alice-123456').toString('base64')}`;
    assert.equal((await server.authenticate('DESCRIBE', URI, basic, false)).ok, false);
    assert.equal((await server.authenticate('DESCRIBE', URI, basic, true)).ok, true);
    assert.ok(!server.challenges(false).some((c) => c.startsWith('Basic')));
    assert.ok(server.challenges(true).some((c) => c.startsWith('Basic')));
    const clear = new RtspClientAuth({ username: 'alice', password: 'x' }, false);
    assert.throws(() => clear.accept(['Basic realm="cam"']), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_AUTH_INSECURE'));
    const secure = new RtspClientAuth({ username: 'alice', password: 'x' }, true);
    secure.accept(['Basic realm="cam"']);
    assert.equal(secure.authorize('DESCRIBE', URI), `Basic ${Buffer.from('alice:x').toString('base64')}`);
    const { server: noBasic } = setup();
    assert.equal((await noBasic.authenticate('DESCRIBE', URI, basic, true)).ok, false);
  });
});
