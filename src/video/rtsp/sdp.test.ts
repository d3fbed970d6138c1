import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { parseParameterSets, parseSdp, resolveControl, serializeSdp } from './sdp.ts';
import { selectTracks } from './client-tracks.ts';

// A camera's DESCRIBE answer: H.264 (RFC 6184 §8.2.1 example fmtp), H.265 (RFC 7798 §7.2), AAC-hbr (RFC 3640 §4.1).
const SDP = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=Camera', 't=0 0', 'a=control:*',
  'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=42A01E; packetization-mode=1; sprop-parameter-sets=Z0IACpZTBYmI,aMljiA==', 'a=control:trackID=1',
  'm=video 0 RTP/AVP 98', 'a=rtpmap:98 H265/90000', 'a=fmtp:98 sprop-vps=QAEMAf//;sprop-sps=QgEBAQ==;sprop-pps=RAHBcg==', 'a=control:rtsp://cam/other/track2',
  'm=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2',
  'a=fmtp:97 streamtype=5; profile-level-id=15; mode=AAC-hbr; config=1190; sizeLength=13; indexLength=3; indexDeltaLength=3', 'a=control:trackID=3',
  '',
].join('\r\n');

describe('SDP for RTSP (RFC 8866, RFC 2326 App. C)', () => {
  test('media, rtpmap, fmtp and sprop parameter sets, control URLs', () => {
    const sdp = parseSdp(SDP);
    assert.equal(sdp.control, '*');
    assert.equal(sdp.media.length, 3);
    const h264 = sdp.media[0];
    assert.deepEqual(h264?.rtpmap.get(96), { encoding: 'H264', clockRate: 90_000, channels: undefined });
    assert.equal(h264?.fmtp.get(96)?.get('packetization-mode'), '1');
    assert.deepEqual(parseParameterSets(h264?.fmtp.get(96)?.get('sprop-parameter-sets')).map((b) => b.toString('hex')), ['6742000a9653058988', '68c96388']);
    const tracks = selectTracks(sdp, 'rtsp://cam/live/', ['video', 'audio']);
    assert.deepEqual(tracks.map((t) => [t.codec, t.control, t.channel]), [
      ['H264', 'rtsp://cam/live/trackID=1', 0],
      ['H265', 'rtsp://cam/other/track2', 2],
      ['AAC', 'rtsp://cam/live/trackID=3', 4],
    ]);
    assert.deepEqual(tracks[1]?.parameterSets.map((b) => b.toString('hex')), ['40010c01ffff', '42010101', '4401c172']);
    assert.equal(resolveControl('rtsp://cam/live', '*'), 'rtsp://cam/live');
  });

  test('serialised SDP parses back', () => {
    const text = serializeSdp('1', '127.0.0.1', [{ type: 'video', payloadType: 96, encoding: 'H264', clockRate: 90_000, fmtp: [['packetization-mode', '1']], control: 'trackID=0' }]);
    const sdp = parseSdp(text);
    assert.equal(sdp.media[0]?.control, 'trackID=0');
    assert.equal(sdp.media[0]?.fmtp.get(96)?.get('packetization-mode'), '1');
  });

  test('NVR-5.3.3.1a: malformed or oversized SDP is VIGIL_SDP_MALFORMED', () => {
    const bad = [
      'x=0', 'v=1\r\n', 'v=0\r\nm=video', 'v=0\r\nm=video 99999 RTP/AVP 96', 'v=0\r\nm=video 0 RTP/AVP 300',
      'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264', `v=0\r\n${'a=x\r\n'.repeat(600)}`, `v=0\r\n${'m=video 0 RTP/AVP 96\r\n'.repeat(17)}`,
      `v=0\r\na=${'x'.repeat(5000)}`, 'v=0\r\nm=video 0 RTP/AVP 96\r\na=fmtp:96 ' + Array.from({ length: 70 }, (_, i) => `p${i}=1`).join(';'),
    ];
    for (const text of bad) assert.throws(() => parseSdp(text), (e: unknown) => isVigilError(e, 'VIGIL_SDP_MALFORMED'), text.slice(0, 40));
    assert.throws(() => parseParameterSets('!!!'), (e: unknown) => isVigilError(e, 'VIGIL_SDP_MALFORMED'));
    assert.throws(() => selectTracks(parseSdp('v=0\r\nm=audio 0 RTP/AVP 0\r\n'), 'rtsp://x/', ['video']), (e: unknown) => isVigilError(e, 'VIGIL_RTSP_UNSUPPORTED'));
  });
});
