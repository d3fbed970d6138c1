import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { createH265Depacketizer, createH265Packetizer } from './h265.ts';
import { emptyRtpPacket, parseRtpPacket } from './rtp-packet.ts';
import { copyAccessUnit, hex, rtp, type CopiedAccessUnit } from './test-support.ts';

// NAL headers (F | Type(6) | LayerId(6) | TID(3)), layer 0, TID 1:
const VPS = '4001 0c01ff'; // type 32
const SPS = '4201 0101'; // type 33
const PPS = '4401 c172'; // type 34
const IDR = '2601 af0a1b2c3d'; // type 19 IDR_W_RADL
const TRAIL = '0201 d00102'; // type 1 TRAIL_R

function run(packets: ReturnType<typeof rtp>[]): { aus: CopiedAccessUnit[]; errors: unknown[] } {
  const d = createH265Depacketizer();
  const aus: CopiedAccessUnit[] = [];
  const errors: unknown[] = [];
  for (const p of packets) {
    try {
      d.push(p, (au) => aus.push(copyAccessUnit(au)));
    } catch (err) {
      errors.push(err);
    }
  }
  return { aus, errors };
}

const clean = (s: string) => s.replace(/\s+/g, '');

describe('H.265 depacketizer, RFC 7798', () => {
  test('RFC 7798 §4.4.2 AP + §4.4.3 FU: an IRAP access unit rebuilt byte-exact', () => {
    // AP: PayloadHdr type 48 (0x6001), then [size][VPS] [size][SPS] [size][PPS]
    const ap = hex(`6001 0005 ${VPS} 0004 ${SPS} 0004 ${PPS}`);
    // FU: PayloadHdr type 49 (0x6201), FU header S|type 19 = 0x93, middle 0x13, E = 0x53
    const fu1 = hex('6201 93 af0a');
    const fu2 = hex('6201 13 1b');
    const fu3 = hex('6201 53 2c3d');
    const { aus, errors } = run([rtp(1, 9000, false, ap), rtp(2, 9000, false, fu1), rtp(3, 9000, false, fu2), rtp(4, 9000, true, fu3)]);
    assert.deepEqual(errors, []);
    assert.deepEqual(aus, [{ timestamp: 9000, keyframe: true, nals: [VPS, SPS, PPS, IDR].map(clean) }]);
  });

  test('RFC 7798 §4.4.1 single NAL units; gap drops until the next IRAP', () => {
    const { aus } = run([
      rtp(1, 0, true, hex(IDR)),
      rtp(2, 3000, true, hex(TRAIL)),
      rtp(4, 6000, true, hex(TRAIL)), // gap
      rtp(5, 9000, true, hex('2a01 aa')), // CRA (type 21) is a keyframe
    ]);
    assert.deepEqual(aus.map((a) => [a.timestamp, a.keyframe]), [[0, true], [3000, false], [9000, true]]);
  });

  test('NVR-5.3.3.1a: hostile H.265 payloads are coded errors', () => {
    const { errors } = run([
      rtp(1, 0, true, hex('c001 00')), // F bit
      rtp(2, 0, true, hex('6001 0005 4001')), // AP size past the end
      rtp(3, 0, true, hex(`6001 0004 ${SPS}`)), // AP with a single unit
      rtp(4, 0, true, hex('6201 d3 00')), // FU with S and E
      rtp(5, 0, true, hex('6401 00 00')), // PACI (type 50)
      rtp(6, 0, true, hex('26')), // shorter than a header
    ]);
    assert.equal(errors.length, 6);
    for (const e of errors) assert.ok(isVigilError(e, 'VIGIL_RTP_MALFORMED'), String(e));
    assert.throws(() => createH265Depacketizer({ spropMaxDonDiff: 2 }), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_UNSUPPORTED'));
  });

  test('RFC 7798 §4.4.3 packetizer: FU headers, marker, round trip', () => {
    const big = Buffer.alloc(3000, 0x5a);
    big[0] = 0x26;
    big[1] = 0x01;
    const packetizer = createH265Packetizer({ payloadType: 97, ssrc: 9, initialSequence: 10, mtu: 1000 });
    const packets: Buffer[] = [];
    packetizer.packetize([hex(VPS), big], 1234, (p) => packets.push(p));
    assert.equal(packets.length, 1 + Math.ceil((3000 - 2) / (1000 - 12 - 3)));
    assert.deepEqual(packets[1]?.subarray(12, 15), hex('6201 93'));
    assert.deepEqual(packets.at(-1)?.subarray(12, 15), hex('6201 53'));
    const d = createH265Depacketizer();
    const out: string[][] = [];
    for (const p of packets) d.push(parseRtpPacket(p, emptyRtpPacket()), (au) => out.push(copyAccessUnit(au).nals));
    assert.deepEqual(out, [[clean(VPS), big.toString('hex')]]);
  });
});
