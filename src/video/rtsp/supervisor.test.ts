import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VigilError } from '../../core/errors.ts';
import { RtspAuthenticator, staticCredentialVerifier } from './digest-server.ts';
import { LiveVideoSource } from './live-source.ts';
import { ReconnectPolicy } from './reconnect.ts';
import { RtspServer } from './server.ts';
import { RtspStreamSupervisor } from './supervisor.ts';

describe('RtspStreamSupervisor (NVR-5.1.2.1a signal loss, ACS-5.4.2.4 reconnect)', () => {
  test('a stream without media times out, is reported, and is reconnected with backoff', async () => {
    const authenticator = new RtspAuthenticator({ realm: 'cam', verifier: staticCredentialVerifier(new Map([['u', 'p-123456789012']])) });
    const server = new RtspServer({ authenticator });
    server.addStream('/live', new LiveVideoSource({ codec: 'H264' }));
    const { port } = await server.listen();
    const errors: Array<[VigilError, number]> = [];
    let connected = 0;
    const supervisor = new RtspStreamSupervisor(
      { url: `rtsp://u:p-123456789012@127.0.0.1:${port}/live`, mediaTimeoutMs: 200 },
      new ReconnectPolicy({ initialDelayMs: 20, maxDelayMs: 50, jitter: 0 }),
      { onConnected: () => (connected += 1), onDisconnected: (e, ms) => errors.push([e, ms]) },
    );
    try {
      supervisor.start();
      const until = Date.now() + 5000;
      while (connected < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.ok(connected >= 2, 'reconnected after the media timeout');
      assert.equal(errors[0]?.[0].code, 'VIGIL_RTSP_TIMEOUT');
      assert.equal(errors[0]?.[1], 20);
    } finally {
      await supervisor.stop();
      await server.close();
    }
  });
});
