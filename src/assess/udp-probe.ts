// One UDP exchange with the target: connected socket, so the kernel reports an ICMP
// port-unreachable as ECONNREFUSED ("closed"); an answer is "open"; silence is "open|filtered"
// (nmap's terms: a firewall or a service that ignores our request look the same).
import dgram from 'node:dgram';
import { isIP } from 'node:net';

export type UdpState = 'open' | 'closed' | 'open|filtered';

export interface UdpAnswer {
  state: UdpState;
  reply?: Buffer;
}

export function udpExchange(host: string, port: number, payload: Buffer, timeoutMs: number, attempts = 2): Promise<UdpAnswer> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const done = (answer: UdpAnswer): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      try {
        socket.close();
      } catch {
        // Already closed by an error: nothing left to release.
      }
      resolve(answer);
    };
    socket.on('error', (err: NodeJS.ErrnoException) => done({ state: err.code === 'ECONNREFUSED' ? 'closed' : 'open|filtered' }));
    socket.on('message', (msg) => done({ state: 'open', reply: msg.subarray(0, 4096) }));
    socket.connect(port, host, () => {
      const send = (): void => {
        if (!settled) socket.send(payload, (err) => (err === null || err === undefined ? undefined : done({ state: err.message.includes('ECONNREFUSED') ? 'closed' : 'open|filtered' })));
      };
      const slice = Math.max(50, Math.floor(timeoutMs / attempts));
      for (let i = 0; i < attempts; i++) timers.push(setTimeout(send, i * slice));
      timers.push(setTimeout(() => done({ state: 'open|filtered' }), timeoutMs));
    });
  });
}
