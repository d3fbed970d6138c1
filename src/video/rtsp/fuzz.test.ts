// Seeded, bounded fuzz loops (testing.md layer 4; NVR-5.3.3.1a, CAM-T-com-4): mutated RTSP
// streams, SDP and RTP payloads must only ever produce coded VigilErrors — no other exception,
// no hang, bounded buffers. Count- and time-bounded with a fixed seed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../core/errors.ts';
import { AacDepacketizer } from '../rtp/aac.ts';
import { createH264Depacketizer } from '../rtp/h264.ts';
import { createH265Depacketizer } from '../rtp/h265.ts';
import { emptyRtpPacket, parseRtpPacket } from '../rtp/rtp-packet.ts';
import { seededRandom } from '../../core/random.ts';
import { RtspDecoder } from './decoder.ts';
import { parseAuthHeader } from './headers.ts';
import { serializeInterleaved } from './message.ts';
import { parseSdp } from './sdp.ts';

const SEED = 0x5eed2326;
const ITERATIONS = 3000;
const BUDGET_MS = 8000;

const SEEDS = [
  Buffer.from('DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n'),
  Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 12\r\nContent-Type: application/sdp\r\n\r\nv=0\r\ns=x\r\n\r\n'),
  serializeInterleaved(0, Buffer.from('80e000010000000000000001' + '7c85aabb', 'hex')),
];

function mutate(input: Buffer, random: () => number): Buffer {
  const out = Buffer.from(input);
  const edits = 1 + Math.floor(random() * 8);
  for (let i = 0; i < edits; i += 1) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
  if (random() < 0.2) return Buffer.concat([out, out.subarray(0, Math.floor(random() * out.length))]);
  return out;
}

function expectOnlyCodedErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigilError, `a non-coded error escaped: ${String(err)}`);
  }
}

describe('bounded fuzz (CAM-T-com-4)', () => {
  test('RTSP decoder, SDP and auth headers under mutation', () => {
    const random = seededRandom(SEED);
    const started = Date.now();
    for (let i = 0; i < ITERATIONS && Date.now() - started < BUDGET_MS; i += 1) {
      const input = Buffer.concat(SEEDS.map((s) => (random() < 0.5 ? mutate(s, random) : s)));
      const d = new RtspDecoder({ onMessage: () => undefined, onInterleaved: () => undefined });
      expectOnlyCodedErrors(() => {
        let at = 0;
        while (at < input.length) {
          const n = 1 + Math.floor(random() * 64);
          d.push(input.subarray(at, at + n));
          at += n;
        }
      });
      assert.ok(d.bufferedBytes <= 16 * 1024 + 64 * 1024);
      expectOnlyCodedErrors(() => parseSdp(mutate(Buffer.from('v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAHw==,aM48gA==\r\n'), random).toString('latin1')));
      expectOnlyCodedErrors(() => parseAuthHeader(mutate(Buffer.from('Digest realm="a", nonce="b\\"c", qop="auth", algorithm=MD5'), random).toString('latin1')));
    }
  });

  test('RTP header and H.264 / H.265 / AAC depacketizers under random payloads', () => {
    const random = seededRandom(SEED + 1);
    const h264 = createH264Depacketizer({ maxAccessUnitBytes: 256 * 1024 });
    const h265 = createH265Depacketizer({ maxAccessUnitBytes: 256 * 1024 });
    const aac = new AacDepacketizer();
    const packet = emptyRtpPacket();
    const started = Date.now();
    let parsed = 0;
    for (let i = 0; i < ITERATIONS * 5 && Date.now() - started < BUDGET_MS; i += 1) {
      const bytes = Buffer.alloc(12 + Math.floor(random() * 1500));
      for (let j = 0; j < bytes.length; j += 1) bytes[j] = Math.floor(random() * 256);
      bytes[0] = 0x80 | ((bytes[0] ?? 0) & 0x3f);
      expectOnlyCodedErrors(() => {
        parseRtpPacket(bytes, packet);
        parsed += 1;
        const sink = (): void => undefined;
        expectOnlyCodedErrors(() => h264.push(packet, sink));
        expectOnlyCodedErrors(() => h265.push(packet, sink));
        expectOnlyCodedErrors(() => aac.push(packet, sink));
      });
    }
    assert.ok(parsed > 100, 'the fuzz loop must reach the depacketizers');
  });
});
