// Live fan-out rules (issue #8): a late viewer starts at once at the latest keyframe, a slow
// viewer skips to the next keyframe instead of queueing without bound, viewers are capped, and
// a stream the browser cannot play is refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveHub, MAX_BUFFERED_BYTES, MAX_VIEWERS_PER_CAMERA, avcCodecString, type LiveSink } from './live-hub.ts';

class FakeSink implements LiveSink {
  bufferedBytes = 0;
  readonly events: string[] = [];
  sendStart(start: { codec: string }, init: Uint8Array): void {
    this.events.push(`start ${start.codec} init:${init.length}`);
  }
  sendFragment(bytes: Uint8Array): void {
    this.events.push(`fragment ${bytes[0]}`);
  }
  end(reason: string): void {
    this.events.push(`end ${reason}`);
  }
}

const INIT = new Uint8Array(100);
const frag = (id: number, keyframe: boolean): { bytes: Uint8Array; keyframe: boolean } => ({ bytes: Uint8Array.of(id), keyframe });

test('a viewer joining mid-stream gets the init segment and the latest keyframe fragment at once', () => {
  const hub = new LiveHub();
  hub.publishInit('cam', INIT, 'avc1.640028');
  hub.publishFragment('cam', frag(1, true));
  hub.publishFragment('cam', frag(2, false));
  hub.publishFragment('cam', frag(3, true));
  const sink = new FakeSink();
  const sub = hub.subscribe('cam', sink);
  assert.ok(!('refused' in sub));
  hub.publishFragment('cam', frag(4, false));
  assert.deepEqual(sink.events, ['start avc1.640028 init:100', 'fragment 3', 'fragment 4']);
});

test('a viewer joining before the camera streams starts at the first keyframe', () => {
  const hub = new LiveHub();
  const sink = new FakeSink();
  hub.subscribe('cam', sink);
  hub.publishInit('cam', INIT, 'avc1.42e01e');
  hub.publishFragment('cam', frag(1, false));
  hub.publishFragment('cam', frag(2, true));
  assert.deepEqual(sink.events, ['start avc1.42e01e init:100', 'fragment 2']);
});

test('a slow viewer skips fragments and resumes only at a keyframe once its buffer drained; others are unaffected', () => {
  const hub = new LiveHub();
  hub.publishInit('cam', INIT, 'avc1.640028');
  hub.publishFragment('cam', frag(1, true));
  const slow = new FakeSink();
  const fast = new FakeSink();
  const slowSub = hub.subscribe('cam', slow);
  hub.subscribe('cam', fast);
  slow.bufferedBytes = MAX_BUFFERED_BYTES + 1;
  hub.publishFragment('cam', frag(2, false));
  hub.publishFragment('cam', frag(3, true)); // still backed up: skipped
  slow.bufferedBytes = 1000;
  hub.publishFragment('cam', frag(4, false)); // drained, but not a keyframe: skipped
  hub.publishFragment('cam', frag(5, true));
  assert.deepEqual(slow.events.slice(1), ['fragment 1', 'fragment 5']);
  assert.deepEqual(fast.events.slice(1), ['fragment 1', 'fragment 2', 'fragment 3', 'fragment 4', 'fragment 5']);
  assert.ok(!('refused' in slowSub));
  assert.equal(slowSub.stats.skippedFragments, 3);
});

test('viewers are capped per camera; an unplayable codec is refused; a stopped camera ends its viewers', () => {
  const hub = new LiveHub();
  const subs = Array.from({ length: MAX_VIEWERS_PER_CAMERA }, () => hub.subscribe('cam', new FakeSink()));
  assert.ok(subs.every((s) => !('refused' in s)));
  assert.deepEqual(hub.subscribe('cam', new FakeSink()), { refused: `at most ${MAX_VIEWERS_PER_CAMERA} live viewers per camera` });
  const first = subs[0];
  if (first !== undefined && !('refused' in first)) first.close();
  assert.equal(hub.viewers('cam'), MAX_VIEWERS_PER_CAMERA - 1);

  const h265 = new LiveHub();
  const watching = new FakeSink();
  h265.subscribe('cam', watching);
  h265.publishInit('cam', INIT, null);
  assert.match(watching.events[0] ?? '', /^end .*H\.264 only/);
  assert.ok('refused' in h265.subscribe('cam', new FakeSink()));

  const stopping = new LiveHub();
  const viewer = new FakeSink();
  stopping.subscribe('cam', viewer);
  stopping.end('cam', 'recording of this camera stopped');
  assert.deepEqual(viewer.events, ['end recording of this camera stopped']);
  assert.equal(stopping.viewers('cam'), 0);
});

test('RFC 6381 codec string from an SPS: avc1.PPCCLL', () => {
  assert.equal(avcCodecString(Uint8Array.of(0x67, 0x64, 0x00, 0x28, 0xac)), 'avc1.640028');
});
