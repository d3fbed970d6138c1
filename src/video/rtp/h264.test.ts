import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { createH264Depacketizer, createH264Packetizer } from './h264.ts';
import { emptyRtpPacket, parseRtpPacket } from './rtp-packet.ts';
import { copyAccessUnit, hex, rtp, type CopiedAccessUnit } from './test-support.ts';
import { groupAccessUnits, splitAnnexB } from './annexb.ts';

const SPS = '6742001f';
const PPS = '68ce3c80';
const IDR = '65888400aabbccdd';
const P_SLICE = '419a0011';

function run(packets: ReturnType<typeof rtp>[], maxAccessUnitBytes?: number): { aus: CopiedAccessUnit[]; errors: unknown[]; stats: unknown } {
  const d = createH264Depacketizer(maxAccessUnitBytes === undefined ? {} : { maxAccessUnitBytes });
  const aus: CopiedAccessUnit[] = [];
  const errors: unknown[] = [];
  for (const p of packets) {
    try {
      d.push(p, (au) => aus.push(copyAccessUnit(au)));
    } catch (err) {
      errors.push(err);
    }
  }
  return { aus, errors, stats: d.stats };
}

describe('H.264 depacketizer, RFC 6184', () => {
  test('RFC 6184 §5.7.1 STAP-A + §5.8 FU-A: one IDR access unit rebuilt byte-exact', () => {
    // STAP-A: type 24, then [size 0004][SPS] [size 0004][PPS]
    const stap = hex(`18 0004 ${SPS} 0004 ${PPS}`);
    // FU-A of the IDR 65 888400aabbccdd: indicator 0x7c (NRI 3, type 28), headers S=0x85, 0x05, E=0x45
    const fu1 = hex('7c85 8884');
    const fu2 = hex('7c05 00aa');
    const fu3 = hex('7c45 bbccdd');
    const { aus, errors } = run([rtp(1, 3000, false, stap), rtp(2, 3000, false, fu1), rtp(3, 3000, false, fu2), rtp(4, 3000, true, fu3)]);
    assert.deepEqual(errors, []);
    assert.deepEqual(aus, [{ timestamp: 3000, keyframe: true, nals: [SPS, PPS, IDR] }]);
  });

  test('RFC 6184 §5.6 single NAL units; access units split by marker and by timestamp change', () => {
    const { aus } = run([
      rtp(10, 0, true, hex(IDR)),
      rtp(11, 3600, true, hex(P_SLICE)),
      rtp(12, 7200, false, hex(P_SLICE)), // marker lost: the next timestamp closes it
      rtp(13, 10800, true, hex(P_SLICE)),
    ]);
    assert.deepEqual(aus.map((a) => [a.timestamp, a.keyframe]), [[0, true], [3600, false], [7200, false], [10800, false]]);
  });

  test('design §5: a stream starts at a keyframe; a sequence gap drops units until the next keyframe', () => {
    const { aus, stats } = run([
      rtp(1, 0, true, hex(P_SLICE)), // before any keyframe: dropped
      rtp(2, 3600, true, hex(IDR)),
      rtp(3, 7200, true, hex(P_SLICE)),
      rtp(5, 10800, true, hex(P_SLICE)), // seq 4 lost → damaged
      rtp(6, 14400, true, hex(P_SLICE)), // not a keyframe → dropped
      rtp(7, 18000, true, hex(IDR)), // resumes here
      rtp(7, 18000, true, hex(IDR)), // duplicate: ignored
      rtp(8, 21600, true, hex(P_SLICE)),
    ]);
    assert.deepEqual(aus.map((a) => a.timestamp), [3600, 7200, 18000, 21600]);
    assert.deepEqual(stats, { packets: 8, lostPackets: 1, latePackets: 1, accessUnits: 4, droppedAccessUnits: 3 });
  });

  test('a lost FU-A fragment drops the whole access unit, even a keyframe', () => {
    const { aus } = run([
      rtp(1, 0, true, hex(IDR)),
      rtp(2, 3600, false, hex('7c85 8884')),
      rtp(4, 3600, true, hex('7c45 bbccdd')), // seq 3 lost mid-NAL
      rtp(5, 7200, true, hex(P_SLICE)),
      rtp(6, 10800, false, hex('7c85 8884')),
      rtp(7, 10800, true, hex('7c45 bbccdd')),
    ]);
    assert.deepEqual(aus.map((a) => a.timestamp), [0, 10800]);
    assert.deepEqual(aus[1]?.nals, ['658884bbccdd']);
  });

  test('NVR-5.3.3.1a: hostile payloads are coded errors and the depacketizer resynchronises', () => {
    const { aus, errors } = run([
      rtp(1, 0, true, hex('e5 00')), // forbidden_zero_bit
      rtp(2, 0, true, hex('18 0009 6742')), // STAP-A size past the end
      rtp(3, 0, true, hex('18 0000')), // STAP-A zero size
      rtp(4, 0, true, hex('7cc5 00')), // FU-A with S and E
      rtp(5, 0, true, hex('7c85')), // FU-A without a fragment byte
      rtp(6, 0, true, hex('1a 00')), // MTAP16: interleaved mode only
      rtp(7, 0, true, hex('')), // empty payload
      rtp(8, 3600, true, hex(IDR)), // recovers
    ]);
    assert.equal(errors.length, 7);
    for (const e of errors) assert.ok(isVigilError(e, 'VIGIL_RTP_MALFORMED'), String(e));
    assert.deepEqual(aus.map((a) => a.timestamp), [3600]);
  });

  test('an endless access unit (no marker, same timestamp) stops at the size limit: bounded memory', () => {
    const packets = [];
    packets.push(rtp(0, 0, false, hex('7c85 88')));
    for (let i = 1; i < 200; i += 1) packets.push(rtp(i, 0, false, Buffer.concat([hex('7c05'), Buffer.alloc(1000)])));
    const { aus, errors } = run(packets, 64 * 1024);
    assert.equal(aus.length, 0);
    assert.ok(errors.length > 0);
    assert.ok(errors.every((e) => isVigilError(e, 'VIGIL_RTP_LIMIT_EXCEEDED')));
  });
});

describe('H.264 packetizer, RFC 6184 §5.6 / §5.8', () => {
  test('small NAL units go whole; a large one becomes FU-A fragments within the MTU; round trip', () => {
    const big = Buffer.alloc(5000);
    big[0] = 0x65;
    for (let i = 1; i < big.length; i += 1) big[i] = i & 0xff;
    const packetizer = createH264Packetizer({ payloadType: 96, ssrc: 7, initialSequence: 65534, mtu: 1200, headroom: 4 });
    const packets: Buffer[] = [];
    packetizer.packetize([hex(SPS), hex(PPS), big], 90_000, (p) => packets.push(p));
    assert.equal(packets.length, 2 + Math.ceil((5000 - 1) / (1200 - 12 - 2)));
    const parsed = packets.map((p) => parseRtpPacket(p.subarray(4), emptyRtpPacket()));
    assert.ok(packets.every((p) => p.length - 4 <= 1200));
    assert.deepEqual(parsed.map((p) => p.sequenceNumber).slice(0, 4), [65534, 65535, 0, 1]);
    assert.deepEqual(parsed.map((p) => p.marker), parsed.map((_, i) => i === parsed.length - 1));
    const third = packets[2]?.subarray(16, 18);
    assert.deepEqual(third, hex('7c85')); // FU indicator NRI 3 type 28, FU header S + type 5
    const d = createH264Depacketizer();
    const out: string[][] = [];
    for (const p of parsed) d.push(p, (au) => out.push(copyAccessUnit(au).nals));
    assert.deepEqual(out, [[SPS, PPS, big.toString('hex')]]);
  });

  test('Annex B: start codes of 3 and 4 bytes split; NAL units grouped into access units', () => {
    const stream = hex(`00000001 ${SPS} 00000001 ${PPS} 000001 ${IDR} 00000001 ${P_SLICE} 00000001 ${P_SLICE}`);
    const nals = splitAnnexB(stream);
    assert.deepEqual(nals.map((n) => Buffer.from(n).toString('hex')), [SPS, PPS, IDR, P_SLICE, P_SLICE]);
    const aus = groupAccessUnits('H264', nals);
    assert.deepEqual(aus.map((a) => a.length), [3, 1, 1]);
  });
});
