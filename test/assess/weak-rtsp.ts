// A deliberately weak RTSP camera for the negative controls: plain RTSP, a stream described to
// anyone, a second one behind RFC 2069 Digest (MD5, fixed nonce, no nonce count: replays work)
// or Basic in clear, and a parser that dies on a long request line (the listener closes).
import { createHash } from 'node:crypto';
import net from 'node:net';
import { listen, type Closable } from './weak-targets.ts';

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

export async function weakRtspCamera(host: string, user: { username: string; password: string }): Promise<Closable> {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const firstLine = buffered.indexOf('\r\n');
      if (firstLine > 4096 || (firstLine < 0 && buffered.length > 4096)) {
        // The "crash": a long request line takes the whole service down.
        socket.destroy();
        server.close();
        return;
      }
      if (buffered.length > 1024 * 1024) buffered = '';
      let end = buffered.indexOf('\r\n\r\n');
      while (end >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [line = '', ...lines] = head.split('\r\n');
        const [method = '', uri = ''] = line.split(' ');
        const cseq = /^cseq:\s*(.*)$/im.exec(lines.join('\n'))?.[1] ?? '0';
        const auth = /^authorization:\s*(.*)$/im.exec(lines.join('\n'))?.[1] ?? '';
        const reply = (status: string, headers: string[] = [], body = ''): void => {
          socket.write(`RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        };
        if (method === 'OPTIONS') reply('200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY']);
        else if (method === 'DESCRIBE' && uri.endsWith('/live')) reply('200 OK', ['Content-Type: application/sdp'], SDP);
        else if (method === 'DESCRIBE' && uri.endsWith('/secure')) {
          const p = new Map([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
          const ha1 = md5(`${user.username}:cam:${user.password}`);
          const ok = auth.startsWith('Digest') && p.get('username') === user.username && p.get('response') === md5(`${ha1}:${p.get('nonce') ?? ''}:${md5(`DESCRIBE:${p.get('uri') ?? ''}`)}`);
          const basic = auth === `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
          if (ok || basic) reply('200 OK', ['Content-Type: application/sdp'], SDP);
          else reply('401 Unauthorized', ['WWW-Authenticate: Digest realm="cam", nonce="0123456789abcdef", algorithm=MD5', 'WWW-Authenticate: Basic realm="cam"']);
        } else reply('404 Not Found');
        end = buffered.indexOf('\r\n\r\n');
      }
    });
  });
  return listen(server, host);
}
