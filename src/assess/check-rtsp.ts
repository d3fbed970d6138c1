// rtsp: the lab's RTSP tests (seed 001; CAM-T-auth-1, CAM-T-com-1, CAM-T-com-4, CAM-T-priv-3,
// NVR-5.4.1.1d). For each declared or discovered RTSP(S) port: DESCRIBE without credentials must
// get 401; the offered schemes (Basic in clear fails; MD5-only Digest is not a FIPS hash); with an
// account, a captured Digest Authorization re-sent on a new request must be refused; with
// --intrusive, a bounded seeded fuzz campaign with a liveness check after each batch.
import { mapBounded } from './bounded.ts';
import { excerpt } from './http-probe.ts';
import { runRtspFuzz, type FuzzResult } from './rtsp-fuzz.ts';
import { digestAuthorization, digestHashOf, headerValues, parseChallenge, rtspExchange, rtspRequest, rtspUri, type AuthChallenge, type RtspEndpoint } from './rtsp-probe.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

/** Stream paths cameras commonly serve (tried without credentials; --rtsp-path names the device's own). */
export const COMMON_RTSP_PATHS: readonly string[] = ['/live', '/', '/stream1', '/h264', '/live.sdp', '/Streaming/Channels/101', '/cam/realmonitor?channel=1&subtype=0', '/media/video1'];
const WELL_KNOWN_RTSP_PORTS: readonly number[] = [554, 8554, 322];
const MAX_PROBED_PORTS = 64;

interface ProtectedStream {
  endpoint: RtspEndpoint;
  path: string;
  challenges: AuthChallenge[];
}

function label(e: RtspEndpoint): string {
  return `${e.tls ? 'RTSPS' : 'RTSP'} ${e.port}`;
}

/** RTSPS first (a TLS OPTIONS), then plain RTSP; undefined when neither answers as RTSP. */
async function identify(ctx: AssessContext, port: number): Promise<RtspEndpoint | undefined> {
  for (const secure of [true, false]) {
    const e: RtspEndpoint = { host: ctx.host, port, tls: secure, ...(secure && ctx.caPem !== undefined ? { ca: ctx.caPem } : {}) };
    const r = await rtspExchange(e, rtspRequest('OPTIONS', rtspUri(e, '/'), 1), 3000);
    if (r.answer !== undefined) return e;
    // A certificate our --ca does not cover is still RTSPS; the probes go on unvalidated (noted).
    if (secure && e.ca !== undefined && r.error !== undefined && /CERT|SELF_SIGNED|UNABLE/i.test(r.error)) {
      const loose: RtspEndpoint = { host: ctx.host, port, tls: true };
      if ((await rtspExchange(loose, rtspRequest('OPTIONS', rtspUri(loose, '/'), 1), 3000)).answer !== undefined) return loose;
    }
  }
  return undefined;
}

export function candidateRtspPorts(ctx: AssessContext): number[] {
  const declared = ctx.declaration.services.filter((s) => s.protocol === 'tcp' && /rtsp/i.test(s.id)).map((s) => s.port);
  const discovered = ctx.openTcp ?? [];
  const base = ctx.rtspPorts.length > 0 || declared.length > 0 || discovered.length > 0 ? [...ctx.rtspPorts, ...declared, ...discovered] : [...WELL_KNOWN_RTSP_PORTS];
  return [...new Set(base)].filter((p) => p > 0 && !ctx.excludePorts.has(`tcp/${p}`)).slice(0, MAX_PROBED_PORTS);
}

async function anonymousDescribe(ctx: AssessContext, endpoints: RtspEndpoint[]): Promise<{ finding: Finding; streams: ProtectedStream[] }> {
  const paths = ctx.rtspPaths.length > 0 ? ctx.rtspPaths : COMMON_RTSP_PATHS;
  const served: string[] = [];
  const lines: string[] = [];
  const streams: ProtectedStream[] = [];
  for (const e of endpoints) {
    const seen: string[] = [];
    for (const [i, p] of paths.entries()) {
      const r = await rtspExchange(e, rtspRequest('DESCRIBE', rtspUri(e, p), 2 + i, [['Accept', 'application/sdp']]), 5000);
      const status = r.answer?.status;
      seen.push(`${p} → ${status ?? r.error ?? 'no answer'}`);
      if (r.answer === undefined) continue;
      if (r.answer.status >= 200 && r.answer.status < 300) served.push(`${label(e)} ${p}: ${r.answer.status} with ${r.answer.body.length} bytes of description ("${excerpt(r.answer.body, 80)}")`);
      if (r.answer.status === 401 && !streams.some((s) => s.endpoint === e)) {
        const challenges = headerValues(r.answer, 'www-authenticate').flatMap((v) => parseChallenge(v) ?? []);
        streams.push({ endpoint: e, path: p, challenges });
      }
    }
    lines.push(`${label(e)}: ${seen.join(', ')}`);
  }
  const clauses: ClauseRef[] = [
    { id: 'CAM-T-auth-1', partial: 'replay is judged by rtsp.replay; user-name leakage by credentials.enumeration' },
    { id: 'NVR-5.2.8.1c', partial: 'live RTSP only; recorded video access is shown through the web interface' },
    { id: 'ACS-5.1.1.9', partial: 'the RTSP interface only' },
  ];
  const base = { id: 'rtsp.anonymous-describe', check: 'rtsp' as const, title: 'DESCRIBE without credentials is refused with 401 on every RTSP(S) port', clauses };
  if (served.length > 0) {
    return { streams, finding: { ...base, status: 'fail', evidence: `stream described without credentials: ${served.join('; ')}`, severity: 'critical', fix: 'Require Digest (SHA-256) authentication for every RTSP method but OPTIONS; refuse anonymous DESCRIBE/SETUP/PLAY with 401.' } };
  }
  const missing = endpoints.filter((e) => !streams.some((s) => s.endpoint === e));
  if (missing.length > 0) {
    return { streams, finding: { ...base, status: 'manual', evidence: `no path answered 401 on ${missing.map(label).join(', ')} (${lines.join('; ')}); name the stream with --rtsp-path` } };
  }
  return { streams, finding: { ...base, status: 'pass', evidence: lines.join('; ') } };
}

function schemesFinding(ctx: AssessContext, streams: ProtectedStream[]): Finding {
  const problems: string[] = [];
  const warnings: string[] = [];
  const offered: string[] = [];
  for (const s of streams) {
    const schemes = s.challenges.map((c) => (c.scheme === 'digest' ? `Digest ${digestHashOf(c) ?? c.params.get('algorithm') ?? '?'}${c.params.has('qop') ? '' : ' (no qop)'}` : c.scheme === 'basic' ? 'Basic' : c.scheme));
    offered.push(`${label(s.endpoint)}: ${schemes.join(', ') || 'no WWW-Authenticate'}`);
    if (s.challenges.length === 0) problems.push(`${label(s.endpoint)}: a 401 without any WWW-Authenticate challenge`);
    if (!s.endpoint.tls && s.challenges.some((c) => c.scheme === 'basic')) problems.push(`${label(s.endpoint)}: Basic offered on plain RTSP (the password crosses the network in clear)`);
    if (s.endpoint.tls && s.challenges.some((c) => c.scheme === 'basic')) warnings.push(`${label(s.endpoint)}: Basic offered (inside TLS only)`);
    const digests = s.challenges.filter((c) => c.scheme === 'digest');
    const hashes = new Set(digests.map((c) => digestHashOf(c)));
    // MD5 is not a FIPS 180-4 hash (CAM-T-com-1 "FIPS algorithms"): offering it alone leaves no approved choice.
    if (digests.length > 0 && !hashes.has('SHA-256')) {
      const text = `${label(s.endpoint)}: Digest with MD5 only (no SHA-256, RFC 7616)`;
      if (ctx.level >= 3 || !s.endpoint.tls) problems.push(text);
      else warnings.push(`${text}; acceptable below level 3 because TLS carries it`);
    } else if (hashes.has('MD5')) warnings.push(`${label(s.endpoint)}: MD5 offered after SHA-256 for legacy clients`);
    if (digests.some((c) => !c.params.has('qop'))) warnings.push(`${label(s.endpoint)}: a Digest challenge without qop (RFC 2069: no nonce count)`);
  }
  const status = streams.length === 0 ? 'manual' : problems.length > 0 ? 'fail' : 'pass';
  return {
    id: 'rtsp.auth-schemes',
    check: 'rtsp',
    title: 'RTSP offers no password in clear and a FIPS-approved Digest hash (SHA-256)',
    status,
    clauses: [{ id: 'CAM-T-com-1' }],
    evidence: streams.length === 0 ? 'no 401 challenge to examine' : `${problems.length > 0 ? `${problems.join('; ')}. ` : ''}offered: ${offered.join('; ')}${warnings.length > 0 ? `; warnings: ${warnings.join('; ')}` : ''}`,
    ...(status === 'fail' ? { severity: 'high' as const, fix: 'Offer Digest with SHA-256 (RFC 7616) and qop=auth; never Basic on plain RTSP; serve RTSPS.' } : {}),
  };
}

function cleartextFinding(endpoints: RtspEndpoint[]): Finding {
  const plain = endpoints.filter((e) => !e.tls);
  const clauses: ClauseRef[] = plain.length > 0
    ? [{ id: 'CAM-T-priv-3' }, { id: 'NVR-5.3.4.1a / 5.3.4.2a' }]
    : [{ id: 'CAM-T-priv-3', partial: 'the RTSPS suites (approved, AES-256 at level 3) need the tls check on that port' }, { id: 'NVR-5.3.4.1a / 5.3.4.2a', partial: 'the RTSPS suites need the tls check on that port' }];
  return {
    id: 'rtsp.cleartext',
    check: 'rtsp',
    title: 'Video is served over RTSPS only (no plain RTSP)',
    status: plain.length > 0 ? 'fail' : 'pass',
    clauses,
    evidence: plain.length > 0 ? `plain RTSP (video in clear) on port ${plain.map((e) => e.port).join(', ')}` : `RTSPS only: ${endpoints.map(label).join(', ')}`,
    ...(plain.length > 0 ? { severity: 'medium' as const, fix: 'Turn plain RTSP off; serve the stream over RTSPS (TLS 1.2+).' } : {}),
  };
}

async function replayFinding(ctx: AssessContext, streams: ProtectedStream[]): Promise<Finding> {
  const clauses: ClauseRef[] = [
    { id: 'CAM-T-auth-1', partial: 'the web login is judged by the credentials check' },
    { id: 'NVR-5.4.1.1d', partial: "the device's side of the link only; the recorder refusing a spoofed camera needs the recorder" },
  ];
  const base = { id: 'rtsp.replay', check: 'rtsp' as const, title: 'A captured RTSP Authorization re-sent on a new request is refused', clauses };
  const creds = ctx.credentials;
  if (creds === undefined) return { ...base, status: 'manual', evidence: 'not run: needs an account allowed to watch the stream (--credentials)' };
  if (streams.length === 0) return { ...base, status: 'manual', evidence: 'no protected stream found to authenticate against' };
  const results: string[] = [];
  let failed = false;
  let shown = 0;
  for (const s of streams) {
    const rank = (c: AuthChallenge): number => (c.scheme === 'digest' ? (digestHashOf(c) === 'SHA-256' ? 0 : digestHashOf(c) === 'MD5' ? 1 : 9) : c.scheme === 'basic' ? 2 : 9);
    const challenge = [...s.challenges].sort((a, b) => rank(a) - rank(b))[0];
    if (challenge === undefined || rank(challenge) === 9) {
      results.push(`${label(s.endpoint)}: no Digest or Basic challenge to answer`);
      continue;
    }
    if (challenge.scheme === 'basic') {
      // Not sent: Basic is replayable by construction (the header is valid until the password changes).
      failed = true;
      results.push(`${label(s.endpoint)}: only Basic offered: a captured header replays until the password changes (not sent, to keep the password off the wire)`);
      continue;
    }
    const uri = rtspUri(s.endpoint, s.path);
    const authorization = digestAuthorization(challenge, creds, 'DESCRIBE', uri);
    if (authorization === undefined) {
      results.push(`${label(s.endpoint)}: the challenge lacks realm or nonce`);
      continue;
    }
    const scheme = `Digest ${digestHashOf(challenge) ?? ''}`;
    const first = await rtspExchange(s.endpoint, rtspRequest('DESCRIBE', uri, 20, [['Accept', 'application/sdp'], ['Authorization', authorization]]), 8000);
    if (first.answer?.status !== 200) {
      results.push(`${label(s.endpoint)}: the given account was not accepted (${scheme}: ${first.answer?.status ?? first.error ?? 'no answer'}), so no capture to replay`);
      continue;
    }
    // The capture re-sent verbatim (same nonce, nc, cnonce, response) as a new request on a new connection.
    const replay = await rtspExchange(s.endpoint, rtspRequest('DESCRIBE', uri, 21, [['Accept', 'application/sdp'], ['Authorization', authorization]]), 8000);
    const status = replay.answer?.status;
    shown++;
    const accepted = status !== undefined && status >= 200 && status < 300;
    if (accepted) failed = true;
    const stale = replay.answer === undefined ? '' : headerValues(replay.answer, 'www-authenticate').some((v) => /stale\s*=\s*"?true/i.test(v)) ? ' stale=true' : '';
    results.push(`${label(s.endpoint)} ${s.path}: ${scheme} accepted once (200), the same Authorization replayed → ${status ?? replay.error ?? 'no answer'}${stale}${accepted ? ' (replay accepted)' : ''}`);
  }
  if (failed) return { ...base, status: 'fail', evidence: results.join('; '), severity: 'high', fix: 'Digest with qop=auth and a nonce count that must grow per nonce (RFC 7616 §3.4); never Basic.' };
  return { ...base, status: shown > 0 && shown === streams.length ? 'pass' : 'manual', evidence: results.join('; ') };
}

function fuzzEvidence(e: RtspEndpoint, r: FuzzResult): string {
  const statuses = Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
  const outages = r.outages.map((o) => `after batch ${o.batch} (cases ${o.firstCase}-${o.lastCase}: ${o.kinds.join('/')}) ${o.recoveredAfterMs === null ? 'did not recover' : `recovered in ${o.recoveredAfterMs} ms`}`);
  return `${label(e)}: ${r.sent} cases in ${r.batches} batches (${(r.elapsedMs / 1000).toFixed(1)} s, stopped by ${r.stoppedBy}); answered ${r.answered} [${statuses}], closed ${r.closed}, silent ${r.silent}${r.serverErrors.length > 0 ? `; 5xx on cases ${r.serverErrors.map((x) => `${x.index} (${x.kind})`).join(', ')}` : ''}${outages.length > 0 ? `; liveness lost ${outages.join('; ')}` : '; a fresh OPTIONS was answered after every batch'}`;
}

async function fuzzFinding(ctx: AssessContext, endpoints: RtspEndpoint[], paths: Map<RtspEndpoint, string>): Promise<Finding> {
  const clauses: ClauseRef[] = [
    { id: 'CAM-T-com-4', partial: 'RTSP (with interleaved frames) only; HTTP is not fuzzed by this check' },
    { id: 'NVR-5.3.3.1a', partial: 'RTSP only; RTP/RTCP, HTTP and TLS need their own campaign' },
  ];
  const base = { id: 'rtsp.fuzz', check: 'rtsp' as const, title: 'RTSP survives malformed input (bounded fuzz, liveness after each batch)', clauses };
  if (!ctx.intrusive) return { ...base, status: 'manual', evidence: `not run: fuzzing may crash the target; run with --intrusive (${ctx.fuzzCases} cases per port, seed ${ctx.fuzzSeed})` };
  const budgetMs = Math.max(10_000, Math.min(ctx.checkTimeoutMs * 0.6, 180_000) / Math.max(1, endpoints.length));
  const evidence: string[] = [];
  let down = false;
  let anyOutage = false;
  for (const e of endpoints) {
    const r = await runRtspFuzz({ target: e, path: paths.get(e) ?? '/', seed: ctx.fuzzSeed, cases: ctx.fuzzCases, batchSize: 25, caseTimeoutMs: 500, budgetMs, recoveryMs: Math.min(30_000, ctx.checkTimeoutMs / 4), signal: ctx.signal });
    evidence.push(fuzzEvidence(e, r));
    if (r.stoppedBy === 'outage') down = true;
    if (r.outages.length > 0 || r.serverErrors.length > 0) anyOutage = true;
  }
  const text = `seed ${ctx.fuzzSeed}: ${evidence.join(' | ')}`;
  if (down) return { ...base, status: 'fail', evidence: text, severity: 'high', fix: 'Bound every RTSP parser input (line, header count and size, Content-Length, interleaved length) and answer 400 or close; never crash.' };
  return { ...base, status: 'pass', evidence: anyOutage ? `${text} (it recovered: no unrecoverable crash)` : text };
}

export async function runRtspCheck(ctx: AssessContext): Promise<Finding[]> {
  const ports = candidateRtspPorts(ctx);
  const identified = await mapBounded(ports, 8, (p) => identify(ctx, p), ctx.signal);
  const endpoints = identified.filter((e): e is RtspEndpoint => e !== undefined);
  if (endpoints.length === 0) {
    return [{ id: 'rtsp.discovery', check: 'rtsp', title: 'RTSP(S) services', status: 'not-applicable', clauses: [], evidence: `no RTSP or RTSPS answer on ${ports.length} port(s): ${ports.slice(0, 20).join(', ')}${ports.length > 20 ? '…' : ''}` }];
  }
  const unvalidated = endpoints.filter((e) => e.tls && e.ca === undefined);
  if (unvalidated.length > 0) ctx.notes.push(`RTSPS certificate not validated on ${unvalidated.map((e) => e.port).join(', ')} (pass --ca to validate it); Digest sends no password and Basic is never sent`);
  const { finding: anonymous, streams } = await anonymousDescribe(ctx, endpoints);
  const paths = new Map<RtspEndpoint, string>(streams.map((s) => [s.endpoint, s.path]));
  return [
    { id: 'rtsp.discovery', check: 'rtsp', title: 'RTSP(S) services', status: 'pass', clauses: [], evidence: `found ${endpoints.map(label).join(', ')} among ${ports.length} port(s)` },
    anonymous,
    schemesFinding(ctx, streams),
    cleartextFinding(endpoints),
    await replayFinding(ctx, streams),
    await fuzzFinding(ctx, endpoints, paths),
  ];
}
