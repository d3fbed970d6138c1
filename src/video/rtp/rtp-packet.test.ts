import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { emptyRtpPacket, parseRtpPacket, rtpCsrc, sequenceDelta, serializeRtpPacket } from './rtp-packet.ts';
import { hex } from './test-support.ts';

const code = (c: 'VIGIL_RTP_MALFORMED' | 'VIGIL_RTP_LIMIT_EXCEEDED') => (err: unknown) => isVigilError(err, c);

describe('RTP header, RFC 3550 §5.1', () => {
  test('RFC 3550 §5.1: fixed header fields, byte-exact', () => {
    // V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq 0x1234 | ts 123456 | SSRC 0xdeadbeef | payload 01 02
    const bytes = hex('80e0 1234 0001e240 deadbeef 0102');
    const p = parseRtpPacket(bytes, emptyRtpPacket());
    assert.deepEqual(
      [p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc, p.csrcCount, p.extensionProfile, p.payloadStart, p.payloadEnd],
      [true, 96, 0x1234, 123456, 0xdeadbeef, 0, -1, 12, 14],
    );
    assert.deepEqual(serializeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 0x1234, timestamp: 123456, ssrc: 0xdeadbeef }, hex('0102')), bytes);
  });

  test('RFC 3550 §5.1/§5.3.1: CSRC list, header extension and padding, byte-exact both ways', () => {
    // CC=2, X=1, P=1: two CSRCs, extension profile 0xBEDE with one word, payload aa bb, 2 padding octets
    const bytes = hex('b2 60 0001 00000002 00000003 00000011 00000022 bede0001 01020304 aabb 0002');
    const p = parseRtpPacket(bytes, emptyRtpPacket());
    assert.equal(p.csrcCount, 2);
    assert.equal(rtpCsrc(p, 0), 0x11);
    assert.equal(rtpCsrc(p, 1), 0x22);
    assert.equal(p.extensionProfile, 0xbede);
    assert.deepEqual(Buffer.from(bytes.subarray(p.extensionStart, p.extensionStart + p.extensionLength)), hex('01020304'));
    assert.deepEqual(Buffer.from(bytes.subarray(p.payloadStart, p.payloadEnd)), hex('aabb'));
    const out = serializeRtpPacket(
      { marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [0x11, 0x22], extension: { profile: 0xbede, data: hex('01020304') }, paddingBytes: 2 },
      hex('aabb'),
    );
    assert.deepEqual(out, bytes);
  });

  test('NVR-5.3.3.1a: hostile headers are coded errors, never a crash', () => {
    const bad = [
      hex('80e0 1234 0001e240'), // shorter than 12
      hex('40e0 1234 0001e240 deadbeef'), // version 1
      hex('8fe0 1234 0001e240 deadbeef 00000001'), // CC=15, list runs past the end
      hex('90e0 1234 0001e240 deadbeef bede00ff 00000000'), // extension length runs past
      hex('90e0 1234 0001e240 deadbeef bede'), // extension header truncated
      hex('a0e0 1234 0001e240 deadbeef 0100'), // padding count 0
      hex('a0e0 1234 0001e240 deadbeef 01ff'), // padding larger than the packet
    ];
    for (const b of bad) assert.throws(() => parseRtpPacket(b, emptyRtpPacket()), code('VIGIL_RTP_MALFORMED'), b.toString('hex'));
    assert.throws(() => parseRtpPacket(Buffer.alloc(70_000, 0x80), emptyRtpPacket()), code('VIGIL_RTP_LIMIT_EXCEEDED'));
    assert.throws(() => serializeRtpPacket({ marker: false, payloadType: 200, sequenceNumber: 0, timestamp: 0, ssrc: 0 }, hex('00')), code('VIGIL_RTP_MALFORMED'));
  });

  test('RFC 3550 App. A.1: sequence distance wraps at 2^16', () => {
    assert.equal(sequenceDelta(65535, 0), 1);
    assert.equal(sequenceDelta(0, 65535), -1);
    assert.equal(sequenceDelta(100, 110), 10);
  });
});
