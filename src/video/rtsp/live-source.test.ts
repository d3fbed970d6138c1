import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.ts';
import { isVigilError, type VigilError } from '../../core/errors.ts';
import { LiveVideoSource, type LiveViewer } from './live-source.ts';
import { ReconnectPolicy } from './reconnect.ts';

const SPS = Buffer.from('6742001f', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const IDR = Buffer.from('65888400', 'hex');
const P = Buffer.from('419a0011', 'hex');

function viewer(): LiveViewer & { frames: Buffer[]; queued: number; dropped: VigilError | undefined } {
  const v = {
    channel: 0, frames: [] as Buffer[], queued: 0, dropped: undefined as VigilError | undefined,
    queuedBytes: () => v.queued,
    send: (f: Buffer) => void v.frames.push(f),
    disconnect: (r: VigilError) => void (v.dropped = r),
  };
  return v;
}

describe('LiveVideoSource fan-out (design §5 backpressure)', () => {
  test('one packetization shared by all viewers; a new viewer starts at the next keyframe', () => {
    const source = new LiveVideoSource({ codec: 'H264' });
    const a = viewer();
    source.addViewer(a);
    source.pushAccessUnit([P], 0); // not a keyframe: nothing yet
    source.pushAccessUnit([SPS, PPS, IDR], 3600);
    const b = viewer();
    source.addViewer(b);
    source.pushAccessUnit([P], 7200);
    assert.equal(a.frames.length, 4);
    assert.equal(b.frames.length, 0);
    assert.equal(a.frames[3]?.[0], 0x24); // interleaved header in the headroom
    assert.match(source.sdpMedia('trackID=0').fmtp.map(([k, v]) => `${k}=${v}`).join(';'), /sprop-parameter-sets=Z0IAHw==,aM48gA==/);
  });

  test('a slow viewer drops to the next keyframe, then is disconnected when stalled too long', () => {
    const clock = new ManualClock(0);
    const source = new LiveVideoSource({ codec: 'H264', maxQueuedBytes: 1000, maxStallMs: 5000, clock });
    const slow = viewer();
    const fast = viewer();
    source.addViewer(slow);
    source.addViewer(fast);
    source.pushAccessUnit([IDR], 0);
    slow.queued = 5000; // its socket stopped draining
    source.pushAccessUnit([P], 3600);
    slow.queued = 0; // drained again: it must wait for a keyframe (no broken GOP)
    source.pushAccessUnit([P], 7200);
    assert.equal(slow.frames.length, 1);
    source.pushAccessUnit([IDR], 10_800);
    assert.equal(slow.frames.length, 2);
    assert.equal(fast.frames.length, 4);
    slow.queued = 5000;
    source.pushAccessUnit([P], 14_400);
    clock.advance(5001);
    source.pushAccessUnit([P], 18_000);
    assert.ok(isVigilError(slow.dropped, 'VIGIL_RTSP_TIMEOUT'));
    assert.equal(source.viewerCount, 1);
    assert.equal(fast.frames.length, 6);
  });

  test('ACS-5.4.1.1: viewers per source are bounded', () => {
    const source = new LiveVideoSource({ codec: 'H265', maxViewers: 1 });
    source.addViewer(viewer());
    assert.throws(() => source.addViewer(viewer()), (e: unknown) => isVigilError(e, 'VIGIL_RATE_LIMITED'));
  });
});

describe('ReconnectPolicy (ACS-5.4.2.4)', () => {
  test('capped exponential backoff with jitter; reset after success', () => {
    const none = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    assert.deepEqual(Array.from({ length: 6 }, () => none.nextDelayMs()), [100, 200, 400, 800, 1000, 1000]);
    none.reset();
    assert.equal(none.nextDelayMs(), 100);
    const jittered = new ReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 1, random: () => 0.5 });
    assert.deepEqual([jittered.nextDelayMs(), jittered.nextDelayMs()], [50, 100]);
  });
});
