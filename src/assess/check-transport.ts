// transport: "live/playback only over TLS" (NVR-5.3.4.1a / 5.3.4.2a) from outside. Video can
// only leave a recorder through a port it listens on, so every open TCP port the ports check
// found is examined: it must complete a TLS 1.2+ handshake offering only AES-256-GCM/ChaCha20
// suites with ECDHE (forward secrecy, AES-256-equivalent) and refuse TLS 1.0/1.1 — or, if it
// is not TLS, answer plain HTTP with nothing but a redirect to HTTPS. Anything else (RTSP in
// clear, an unknown protocol) is a channel video could use in clear and fails.
import { mapBounded } from './bounded.ts';
import type { AssessContext } from './context.ts';
import { parseHttpHead, rawExchange } from './check-services.ts';
import { observeHandshake } from './tls-probe.ts';
import type { Finding } from './types.ts';

const MAX_PORTS = 64;
const STRONG_TLS12 = 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';
const STRONG_TLS13 = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
/** Largest body a redirect may carry (a one-line "moved" note) before it counts as content. */
const REDIRECT_BODY_MAX = 512;

type PortVerdict = { port: number; ok: boolean; text: string };

async function examine(ctx: AssessContext, port: number): Promise<PortVerdict> {
  const strong = await observeHandshake({ host: ctx.host, port, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: STRONG_TLS12, ciphersuites: STRONG_TLS13, timeoutMs: 5000, ...(ctx.caPem === undefined ? {} : { ca: ctx.caPem }) });
  if (strong.ok) {
    const legacy = await observeHandshake({ host: ctx.host, port, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', timeoutMs: 5000 });
    // Static RSA key exchange has no forward secrecy: offered alone, it must be refused.
    const rsa = await observeHandshake({ host: ctx.host, port, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'kRSA', timeoutMs: 5000 });
    const text = `${port}: ${strong.protocol ?? '?'} ${strong.cipher ?? '?'}${strong.group === undefined ? '' : ` (${strong.group})`}; TLS 1.0/1.1 ${legacy.ok ? `ACCEPTED (${legacy.protocol ?? '?'})` : 'refused'}; static RSA ${rsa.ok ? `ACCEPTED (${rsa.cipher ?? '?'})` : 'refused'}`;
    return { port, ok: !legacy.ok && !rsa.ok, text };
  }
  // Not a TLS service offering strong suites: is it TLS at all (weak suites only)?
  const any = await observeHandshake({ host: ctx.host, port, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', timeoutMs: 5000 });
  if (any.ok) return { port, ok: false, text: `${port}: TLS without an AES-256-equivalent ECDHE suite (${any.protocol ?? '?'} ${any.cipher ?? '?'})` };
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${ctx.host}\r\nUser-Agent: vigil-assess\r\nConnection: close\r\n\r\n`);
  const ex = await rawExchange(ctx.host, port, request, 3000);
  const answer = parseHttpHead(ex.data);
  if (answer === undefined) return { port, ok: false, text: `${port}: neither TLS nor HTTP (${ex.data.length} bytes answered): a channel in clear` };
  const redirect = answer.status >= 300 && answer.status < 400 && (answer.location ?? '').toLowerCase().startsWith('https://') && answer.bodyBytes <= REDIRECT_BODY_MAX;
  return { port, ok: redirect, text: `${port}: plain HTTP ${answer.status}${redirect ? ` → ${answer.location ?? ''} (redirect only)` : `, ${answer.bodyBytes} body bytes in clear`}` };
}

export async function runTransportCheck(ctx: AssessContext): Promise<Finding[]> {
  const base = { id: 'transport.video-channels', check: 'transport' as const, title: 'Every open port is TLS 1.2+ with AES-256-equivalent ECDHE suites, or a redirect to it', clauses: [{ id: 'NVR-5.3.4.1a / 5.3.4.2a' }] };
  if (ctx.profile !== 'nvr') return [{ ...base, clauses: [], status: 'not-applicable', evidence: 'this probe judges recorders (--profile nvr)' }];
  if (ctx.openTcp === undefined) return [{ ...base, status: 'manual', evidence: 'not run: needs the open ports from the ports check' }];
  const ports = ctx.openTcp.filter((p) => !ctx.excludePorts.has(`tcp/${p}`));
  if (ports.length > MAX_PORTS) return [{ ...base, status: 'manual', evidence: `${ports.length} open TCP ports: more than the ${MAX_PORTS} this probe examines` }];
  if (ports.length === 0) return [{ ...base, status: 'manual', evidence: 'no open TCP port: no channel to examine' }];
  const verdicts = await mapBounded(ports, 4, (p) => examine(ctx, p), ctx.signal);
  const bad = verdicts.filter((v) => !v.ok);
  return [{
    ...base,
    status: bad.length === 0 ? 'pass' : 'fail',
    evidence: verdicts.map((v) => v.text).join('; '),
    ...(bad.length === 0 ? {} : { severity: 'high' as const, fix: 'Serve live view and playback only over TLS 1.2+ with AES-256-GCM or ChaCha20 and ECDHE; close clear-text ports or make them redirect.' }),
  }];
}
