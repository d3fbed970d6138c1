import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVigilError } from '../../core/errors.ts';
import { RtspDecoder } from './decoder.ts';
import { getHeader, serializeInterleaved, serializeRequest, serializeResponse, type RtspLimits, type RtspMessage } from './message.ts';

function decoder(limits: Partial<RtspLimits> = {}): { d: RtspDecoder; messages: RtspMessage[]; frames: Array<[number, string]> } {
  const messages: RtspMessage[] = [];
  const frames: Array<[number, string]> = [];
  const d = new RtspDecoder({ onMessage: (m) => messages.push(m), onInterleaved: (c, p) => frames.push([c, p.toString('hex')]) }, limits);
  return { d, messages, frames };
}

const isCode = (code: 'VIGIL_RTSP_MALFORMED' | 'VIGIL_RTSP_LIMIT_EXCEEDED') => (e: unknown) => isVigilError(e, code);

// RFC 2326 §14.2 (streaming of a container file), DESCRIBE answer shape.
const DESCRIBE_RESPONSE = 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 7\r\n\r\nv=0\r\n\r\n';

describe('RTSP decoder, RFC 2326 §4/§6/§7/§10.12', () => {
  test('RFC 2326 §6: a request with headers; §7: a response with a Content-Length body', () => {
    const { d, messages } = decoder();
    d.push(Buffer.from('DESCRIBE rtsp://server.example.com/fizzle/foo RTSP/1.0\r\nCSeq: 312\r\nAccept: application/sdp, application/rtsl, application/mheg\r\n\r\n'));
    d.push(Buffer.from(DESCRIBE_RESPONSE));
    assert.equal(messages.length, 2);
    const [req, res] = messages;
    assert.ok(req?.kind === 'request' && res?.kind === 'response');
    assert.equal(req.method, 'DESCRIBE');
    assert.equal(req.uri, 'rtsp://server.example.com/fizzle/foo');
    assert.equal(getHeader(req.headers, 'cseq'), '312');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'v=0\r\n\r\n');
  });

  test('RFC 2326 §10.12: interleaved frames between messages, split at every byte boundary', () => {
    const stream = Buffer.concat([
      serializeInterleaved(0, Buffer.from('80e00001', 'hex')),
      Buffer.from(DESCRIBE_RESPONSE),
      serializeInterleaved(1, Buffer.alloc(0)),
      serializeInterleaved(2, Buffer.from('aabbcc', 'hex')),
    ]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const { d, messages, frames } = decoder();
      d.push(stream.subarray(0, cut));
      d.push(stream.subarray(cut));
      assert.equal(messages.length, 1, `cut ${cut}`);
      assert.deepEqual(frames, [[0, '80e00001'], [1, ''], [2, 'aabbcc']], `cut ${cut}`);
      assert.equal(d.bufferedBytes, 0);
    }
    const { d, frames } = decoder();
    for (const byte of stream) d.push(Buffer.of(byte));
    assert.equal(frames.length, 3);
  });

  test('serialisers are byte-exact and refuse header injection', () => {
    assert.equal(serializeRequest('OPTIONS', '*', [['CSeq', '1']]).toString(), 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    assert.equal(serializeResponse(200, [['CSeq', '1']], Buffer.from('x')).toString(), 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 1\r\n\r\nx');
    assert.deepEqual(serializeInterleaved(3, Buffer.from([9])), Buffer.from('24030001' + '09', 'hex'));
    assert.throws(() => serializeRequest('OPTIONS', '*', [['CSeq', '1\r\nEvil: yes']]), isCode('VIGIL_RTSP_MALFORMED'));
    assert.throws(() => serializeRequest('OPTIONS', 'rtsp://a b', []), isCode('VIGIL_RTSP_MALFORMED'));
  });

  const hostile: Array<[string, Buffer, Partial<RtspLimits>, 'VIGIL_RTSP_MALFORMED' | 'VIGIL_RTSP_LIMIT_EXCEEDED']> = [
    ['an oversized line', Buffer.from(`OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(5000)}\r\n\r\n`), {}, 'VIGIL_RTSP_LIMIT_EXCEEDED'],
    ['too many headers', Buffer.from(`OPTIONS * RTSP/1.0\r\n${'X: 1\r\n'.repeat(65)}\r\n`), {}, 'VIGIL_RTSP_LIMIT_EXCEEDED'],
    ['a head that never ends', Buffer.from(`OPTIONS * RTSP/1.0\r\n${'X: 1\r\n'.repeat(4000)}`), {}, 'VIGIL_RTSP_LIMIT_EXCEEDED'],
    ['an endless body', Buffer.from('ANNOUNCE * RTSP/1.0\r\nContent-Length: 999999999\r\n\r\n'), {}, 'VIGIL_RTSP_LIMIT_EXCEEDED'],
    ['a negative Content-Length', Buffer.from('ANNOUNCE * RTSP/1.0\r\nContent-Length: -1\r\n\r\n'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['conflicting Content-Lengths', Buffer.from('ANNOUNCE * RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['an interleaved length over the limit', Buffer.from('2400ffff', 'hex'), { maxInterleavedBytes: 1500 }, 'VIGIL_RTSP_LIMIT_EXCEEDED'],
    ['a garbage start line', Buffer.from('\x00\x01\x02 garbage\r\n\r\n', 'latin1'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['RTSP/2.0', Buffer.from('OPTIONS * RTSP/2.0\r\n\r\n'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['a folded header', Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n continued\r\n\r\n'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['a header without colon', Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n'), {}, 'VIGIL_RTSP_MALFORMED'],
    ['a NUL in a header', Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\x00\r\n\r\n', 'latin1'), {}, 'VIGIL_RTSP_MALFORMED'],
  ];
  for (const [name, bytes, limits, code] of hostile) {
    test(`NVR-5.3.3.1a / CAM-T-com-4: ${name} is ${code} and the decoder stays failed`, () => {
      const { d, messages } = decoder(limits);
      assert.throws(() => d.push(bytes), isCode(code));
      assert.throws(() => d.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')), isCode(code));
      assert.equal(messages.length, 0);
      assert.equal(d.bufferedBytes, 0);
    });
  }

  test('bounded memory: a trickled endless head never buffers more than the head limit', () => {
    const { d } = decoder({ maxHeaderBytes: 2048, maxLineBytes: 1024 });
    let failed = false;
    for (let i = 0; i < 10_000 && !failed; i += 1) {
      try {
        d.push(Buffer.from(i === 0 ? 'OPTIONS * RTSP/1.0\r\n' : 'X: y\r\n'));
        assert.ok(d.bufferedBytes <= 2048 + 64 * 1024);
      } catch (err) {
        assert.ok(isVigilError(err, 'VIGIL_RTSP_LIMIT_EXCEEDED'));
        failed = true;
      }
    }
    assert.ok(failed);
  });
});
