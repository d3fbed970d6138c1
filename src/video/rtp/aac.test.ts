import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { AacDepacketizer } from './aac.ts';
import { hex, rtp } from './test-support.ts';

function collect(d: AacDepacketizer, packets: ReturnType<typeof rtp>[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const p of packets) d.push(p, (frame, ts) => out.push([Buffer.from(frame).toString('hex'), ts]));
  return out;
}

describe('AAC-hbr depacketizer, RFC 3640 §3.2–3.3.6', () => {
  test('RFC 3640 §3.2.1: two AUs in one packet (AU-headers-length 32 bits, size 13 + index 3)', () => {
    // headers: size 4 / index 0 → 0x0020; size 3 / delta 0 → 0x0018
    const payload = hex('0020 0020 0018 11223344 556677');
    const out = collect(new AacDepacketizer(), [rtp(1, 48_000, true, payload)]);
    assert.deepEqual(out, [['11223344', 48_000], ['556677', 49_024]]);
  });

  test('RFC 3640 §3.2.3: one AU fragmented over two packets', () => {
    // AU size 6 → header 0x0030; first packet carries 4 bytes, the second (marker) 2
    const out = collect(new AacDepacketizer(), [rtp(1, 0, false, hex('0010 0030 a1a2a3a4')), rtp(2, 0, true, hex('0010 0030 a5a6'))]);
    assert.deepEqual(out, [['a1a2a3a4a5a6', 0]]);
  });

  test('a lost fragment drops the AU; hostile headers are coded errors', () => {
    const d = new AacDepacketizer({ maxFrameBytes: 1000 });
    const out = collect(d, [rtp(1, 0, false, hex('0010 0030 a1a2a3a4')), rtp(3, 0, true, hex('0010 0030 a5a6'))]);
    assert.deepEqual(out, []);
    const bad = [hex('00'), hex('0011 0030 00'), hex('0010'), hex('0020 0020 0019 00'), hex('0010 ffff 00')];
    let seq = 10;
    for (const b of bad) {
      assert.throws(() => d.push(rtp(seq, 0, true, b), () => undefined), (e: unknown) => isVigilError(e, 'VIGIL_RTP_MALFORMED') || isVigilError(e, 'VIGIL_RTP_LIMIT_EXCEEDED'), b.toString('hex'));
      seq += 1;
    }
  });
});
