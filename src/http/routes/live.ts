// Live view over a secure WebSocket (issue #8; design.md §5): the browser's MediaSource gets the
// camera's init segment and the latest keyframe fragment at once, then every fragment the recorder
// makes (src/video/live/live-hub.ts: bounded per viewer, slow viewers skip to the next keyframe).
// Authorised per camera by the one access gate (camera.view, scoped), the handshake's Origin must
// be this device's own (no cross-site WebSocket hijacking), and every view is audited with who,
// which camera, and — when it ends — for how long (NVR-5.2.7.1a).
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { LiveSink } from '../../video/live/live-hub.ts';
import { access } from '../access.ts';
import { ErrorBody } from '../errors.ts';
import type { RouteDeps } from '../services.ts';
import { CameraId, cameraScope } from './cameras.ts';
import { actorOf } from './common.ts';

type Params = Static<typeof CameraId>;

/** Client → server messages are not part of the protocol: anything larger is a protocol error. */
export const LIVE_MAX_CLIENT_MESSAGE = 1024;

export async function liveRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get<{ Params: Params }>('/api/v1/cameras/:id/live', {
    websocket: true,
    config: { access: access.permission('camera.view', cameraScope) },
    schema: { params: CameraId, response: { '4xx': ErrorBody, '5xx': ErrorBody } },
  }, async (socket, request) => {
    const cameraId = request.params.id;
    const started = Date.now();
    const audit = { category: 'video' as const, actor: actorOf(request), source: request.ip, target: `camera:${cameraId}` };
    // Checked after the upgrade, unlike the access gate's 401/403: a browser's WebSocket API shows
    // no handshake status, so these refusals are a message with the reason the page can display,
    // then a policy-violation close.
    const refuse = (reason: string): void => {
      services.audit.record({ ...audit, action: 'video.live', outcome: 'denied', details: { reason } });
      socket.send(JSON.stringify({ type: 'end', reason }));
      socket.close(1008, 'refused');
    };
    if (!services.webOrigins().includes(request.headers.origin ?? '')) return refuse('live view is only served to this device\'s own web UI (Origin mismatch)');
    if (!(await services.cameras.get(cameraId).then(() => true, () => false))) return refuse('no such camera');
    const sink: LiveSink = {
      get bufferedBytes() {
        return socket.bufferedAmount;
      },
      sendStart: (start, init) => {
        socket.send(JSON.stringify({ type: 'start', codec: start.codec }));
        socket.send(init);
      },
      sendFragment: (bytes) => socket.send(bytes),
      end: (reason) => {
        socket.send(JSON.stringify({ type: 'end', reason }));
        socket.close(1000, 'stream ended');
      },
    };
    const subscription = services.live.subscribe(cameraId, sink);
    if ('refused' in subscription) {
      services.audit.record({ ...audit, action: 'video.live', outcome: 'failure', details: { reason: subscription.refused } });
      socket.send(JSON.stringify({ type: 'end', reason: subscription.refused }));
      socket.close(1013, 'refused');
      return;
    }
    services.audit.record({ ...audit, action: 'video.live', outcome: 'success' });
    socket.on('message', () => socket.close(1003, 'the live stream takes no messages'));
    socket.on('close', () => {
      subscription.close();
      services.audit.record({ ...audit, action: 'video.live.end', outcome: 'success', details: { seconds: Math.round((Date.now() - started) / 1000), ...subscription.stats } });
    });
  });
}
