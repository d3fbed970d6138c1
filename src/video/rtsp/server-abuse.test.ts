// NVR-5.3.3.1a / CAM-T-com-4 over a real socket: hostile input drops that connection only,
// the server keeps serving; brute force ends the connection (CAM-T-auth-4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RtspAuthenticator, staticCredentialVerifier } from './digest-server.ts';
import { LiveVideoSource } from './live-source.ts';
import { RtspServer } from './server.ts';

function exchange(port: number, payload: Buffer | string, ms = 3000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, ms);
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    socket.write(payload);
  });
}

describe('RTSP server under abuse', () => {
  test('oversized head, bad interleaved length, garbage and brute force: connection dropped, server alive', async () => {
    const authenticator = new RtspAuthenticator({ realm: 'cam', verifier: staticCredentialVerifier(new Map([['u', 'p-123456789012']])) });
    const server = new RtspServer({ authenticator, maxAuthFailures: 3, limits: { maxInterleavedBytes: 2048 } });
    server.addStream('/live', new LiveVideoSource({ codec: 'H264' }));
    const { port } = await server.listen();
    try {
      const big = await exchange(port, `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.equal(big.closed, true);
      assert.equal(big.data, '');
      assert.equal((await exchange(port, Buffer.from('2400ffff', 'hex'))).closed, true);
      assert.equal((await exchange(port, Buffer.from('\x16\x03\x01garbage\r\n\r\n', 'latin1'))).closed, true);
      const brute = Array.from({ length: 4 }, (_, i) => `DESCRIBE rtsp://127.0.0.1:${port}/live RTSP/1.0\r\nCSeq: ${i + 1}\r\nAuthorization: Digest username="u", realm="cam", nonce="x", uri="rtsp://127.0.0.1:${port}/live", response="${'0'.repeat(64)}", qop=auth, nc=00000001, cnonce="c", algorithm=SHA-256\r\n\r\n`).join('');
      const denied = await exchange(port, brute);
      assert.equal(denied.closed, true);
      assert.equal(denied.data.match(/RTSP\/1\.0 401/g)?.length, 3);
      assert.doesNotMatch(denied.data, /RTSP\/1\.0 200/);
      const ok = await exchange(port, 'OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n', 300);
      assert.match(ok.data, /^RTSP\/1\.0 200 OK\r\nCSeq: 9\r\n/);
      const noAuth = await exchange(port, `DESCRIBE rtsp://127.0.0.1:${port}/live RTSP/1.0\r\nCSeq: 3\r\n\r\n`, 300);
      assert.match(noAuth.data, /^RTSP\/1\.0 401 Unauthorized/);
      assert.match(noAuth.data, /WWW-Authenticate: Digest realm="cam", nonce="[A-Za-z0-9_-]{54}", algorithm=SHA-256, qop="auth"/);
      assert.doesNotMatch(noAuth.data, /v=0|Basic/);
    } finally {
      await server.close();
    }
    assert.equal(server.connectionCount, 0);
  });
});
