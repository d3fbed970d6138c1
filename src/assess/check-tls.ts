// tls: what the management port's TLS offers, probed version by version and suite by suite
// (seed 002 App. A; NVR-5.3.1.1a/5.3.1.2a, CAM-T-com-1, CAM-T-priv-3), plus sslscan's view when
// the machine has it (the lab's own tool, seed 001).
import { isIP } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import { mapBounded } from './bounded.ts';
import { findTool, runExternalTool } from './external-tool.ts';
import { observeHandshake, type HandshakeObservation, type TlsVersion } from './tls-probe.ts';
import type { AssessContext } from './context.ts';
import type { ClauseRef, Finding } from './types.ts';

const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** TLS ≤1.2 suites offered one at a time: the weak families, and the strong ones for comparison. */
export const PROBED_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-RSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'DHE-RSA-AES256-SHA', 'DHE-RSA-AES128-SHA',
  'AES256-GCM-SHA384', 'AES128-GCM-SHA256', 'AES256-SHA256', 'AES128-SHA256', 'AES256-SHA', 'AES128-SHA',
  'DES-CBC3-SHA', 'ECDHE-RSA-DES-CBC3-SHA', 'RC4-SHA', 'RC4-MD5', 'NULL-SHA256', 'NULL-SHA', 'AECDH-AES256-SHA', 'ADH-AES256-GCM-SHA384',
];

const TLS13_SUITES: readonly string[] = ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'];
const GROUPS: readonly string[] = ['P-256', 'P-384', 'P-521', 'X25519', 'X448', 'ffdhe2048', 'ffdhe3072'];

export type SuiteWeakness = 'broken' | 'no-forward-secrecy' | 'cbc' | undefined;

/** Broken: NULL, anonymous, export, RC4, 3DES. Then RSA key exchange (no FS), then CBC mode. */
export function suiteWeakness(name: string): SuiteWeakness {
  const n = name.toUpperCase();
  if (n.startsWith('TLS_')) return undefined;
  if (/NULL|^ADH|^AECDH|ANON|EXP|RC4|DES-CBC3|3DES|^DES-|IDEA|SEED|MD5/.test(n)) return 'broken';
  if (!/^(ECDHE|DHE|EDH)-/.test(n)) return 'no-forward-secrecy';
  if (!/GCM|CHACHA20|CCM/.test(n)) return 'cbc';
  return undefined;
}

const TLS_CLAUSES: ClauseRef[] = [
  { id: 'NVR-5.3.1.1a' },
  { id: 'CAM-T-com-1' },
  { id: 'CAM-T-priv-3', partial: 'video streams (RTSPS, WSS live view) were not probed' },
  { id: 'ACS-5.3.1.1', partial: 'only the TLS of the management port was examined' },
  { id: 'ACS-5.3.1.2', partial: 'only data in transit on the management port was examined' },
];

function certificateFinding(cert: X509Certificate, host: string): Finding {
  const problems: string[] = [];
  const key = cert.publicKey.asymmetricKeyDetails;
  const type = cert.publicKey.asymmetricKeyType ?? 'unknown';
  const keyText = type === 'rsa' || type === 'rsa-pss' ? `RSA ${key?.modulusLength ?? '?'} bits` : type === 'ec' ? `EC ${key?.namedCurve ?? '?'}` : type;
  if ((type === 'rsa' || type === 'rsa-pss') && (key?.modulusLength ?? 0) < 2048) problems.push(`RSA key of ${key?.modulusLength ?? '?'} bits (< 2048)`);
  if (type === 'ec' && !/prime256v1|secp384r1|secp521r1|P-256|P-384|P-521/.test(key?.namedCurve ?? '')) problems.push(`EC curve ${key?.namedCurve ?? '?'} is not P-256/P-384/P-521`);
  const sig = cert.signatureAlgorithm ?? 'unknown';
  if (/md5|sha1With|sha1$|ecdsa-with-SHA1/i.test(sig)) problems.push(`signature algorithm ${sig} (SHA-1/MD5)`);
  const now = Date.now();
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now < from) problems.push(`not valid before ${cert.validFrom}`);
  if (now > to) problems.push(`expired on ${cert.validTo}`);
  const matches = isIP(host) !== 0 ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
  if (!matches) problems.push(`does not name ${host} in its subject alternative names`);
  const selfSigned = cert.issuer === cert.subject;
  const evidence = `${keyText}, signature ${sig}, valid ${cert.validFrom} → ${cert.validTo} (${Math.round((to - from) / 86_400_000)} days), ${selfSigned ? 'self-signed' : `issuer ${cert.issuer.replace(/\n/g, ', ')}`}, SHA-256 ${cert.fingerprint256}`;
  return {
    id: 'tls.certificate',
    check: 'tls',
    title: 'Server certificate: key size, signature algorithm, validity, name',
    status: problems.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'CAM-T-com-1' }, { id: 'ACS-5.3.1.1', partial: 'only the management certificate' }],
    evidence: problems.length === 0 ? evidence : `${problems.join('; ')}. ${evidence}`,
    ...(problems.length === 0 ? {} : { severity: 'medium' as const, fix: 'Use an RSA ≥ 2048 or P-256/P-384 key, a SHA-256+ signature, a current validity period and the device address in subjectAltName.' }),
  };
}

/** sslscan's view: legacy protocols enabled and the suites it saw accepted. */
export function parseSslscan(out: string): { legacyEnabled: string[]; accepted: string[] } {
  const legacyEnabled = ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1'].filter((p) => new RegExp(`^\\s*${p.replace(/\./g, '\\.')}\\s+enabled`, 'm').test(out));
  const accepted = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(Preferred|Accepted)\s/.test(l))
    .map((l) => `${l.split(/\s+/)[1] ?? '?'} ${l.split(/\s+/)[4] ?? '?'}`);
  return { legacyEnabled, accepted };
}

async function sslscanFinding(ctx: AssessContext): Promise<Finding | undefined> {
  const sslscan = findTool('sslscan');
  if (sslscan === undefined) {
    ctx.notes.push('sslscan not installed (apt-get install sslscan): built-in node:tls probes only; SSLv2/SSLv3 and RC4 cannot be offered by this client');
    return undefined;
  }
  const target = isIP(ctx.host) === 6 ? `[${ctx.host}]:${ctx.port}` : `${ctx.host}:${ctx.port}`;
  const run = await runExternalTool(sslscan, ['--no-colour', '--no-heartbleed', target], Math.min(120_000, ctx.checkTimeoutMs), ctx.signal);
  if (run.code !== 0 || run.timedOut) {
    ctx.notes.push(`sslscan failed (${run.timedOut ? 'timed out' : `exit ${run.code}`}); built-in probes only`);
    return undefined;
  }
  const { legacyEnabled, accepted } = parseSslscan(run.stdout);
  const weak = accepted.filter((a) => suiteWeakness(a.split(' ')[1] ?? '') !== undefined);
  const bad = legacyEnabled.length > 0 || weak.length > 0;
  return {
    id: 'tls.sslscan',
    check: 'tls',
    title: 'sslscan (the lab tool) sees no legacy protocol or weak suite',
    status: bad ? 'fail' : 'pass',
    clauses: TLS_CLAUSES,
    evidence: `${sslscan} --no-colour: legacy protocols enabled: ${legacyEnabled.join(', ') || 'none'}; accepted: ${accepted.join('; ') || 'none'}`,
    ...(bad ? { severity: 'high' as const, fix: 'Allow only TLS 1.2/1.3 with ECDHE and AEAD (AES-256-GCM) suites.' } : {}),
  };
}

export async function runTlsCheck(ctx: AssessContext): Promise<Finding[]> {
  const base = { host: ctx.host, port: ctx.port, timeoutMs: 5000, ...(ctx.caPem === undefined ? {} : { ca: ctx.caPem }) };
  const byVersion = new Map<TlsVersion, HandshakeObservation>();
  for (const v of VERSIONS) if (!ctx.signal.aborted) byVersion.set(v, await observeHandshake({ ...base, minVersion: v, maxVersion: v }));
  const accepted = VERSIONS.filter((v) => byVersion.get(v)?.ok === true);
  ctx.progress(`tls: protocol versions accepted: ${accepted.join(', ') || 'none'}`);
  if (accepted.length === 0) {
    const err = byVersion.get('TLSv1.2')?.error ?? 'no handshake';
    return [{
      id: 'tls.available',
      check: 'tls',
      title: 'The management port speaks TLS 1.2 or later',
      status: 'fail',
      clauses: TLS_CLAUSES,
      evidence: `no TLS handshake succeeded on ${ctx.host}:${ctx.port} with any of ${VERSIONS.join(', ')} (${err})`,
      severity: 'high',
      fix: 'Serve the management interface over TLS 1.2/1.3 only.',
    }];
  }
  const findings: Finding[] = [];
  const legacy = accepted.filter((v) => v === 'TLSv1' || v === 'TLSv1.1');
  findings.push({
    id: 'tls.protocols',
    check: 'tls',
    title: 'Only TLS 1.2 and 1.3 are accepted',
    status: legacy.length === 0 && accepted.some((v) => v === 'TLSv1.2' || v === 'TLSv1.3') ? 'pass' : 'fail',
    clauses: TLS_CLAUSES,
    evidence: VERSIONS.map((v) => {
      const o = byVersion.get(v);
      return `${v}: ${o?.ok === true ? `accepted (${o.cipher ?? '?'})` : `refused (${o?.error ?? '?'})`}`;
    }).join('; '),
    ...(legacy.length === 0 ? {} : { severity: 'high' as const, fix: `Disable ${legacy.join(' and ')}: set the minimum protocol version to TLS 1.2.` }),
  });

  // Suites of TLS ≤ 1.2, offered one at a time on the highest such version the server accepts.
  const v12 = (['TLSv1.2', 'TLSv1.1', 'TLSv1'] as const).find((v) => accepted.includes(v));
  const acceptedSuites: string[] = [];
  if (v12 !== undefined) {
    const results = await mapBounded(PROBED_SUITES, 4, (suite) => observeHandshake({ ...base, minVersion: v12, maxVersion: v12, ciphers: suite }), ctx.signal);
    PROBED_SUITES.forEach((s, i) => {
      if (results[i]?.ok === true) acceptedSuites.push(results[i]?.cipher ?? s);
    });
  }
  const tls13 = accepted.includes('TLSv1.3')
    ? (await mapBounded(TLS13_SUITES, 3, (s) => observeHandshake({ ...base, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: s, ciphers: 'DEFAULT' }), ctx.signal)).flatMap((o, i) => {
        const suite = TLS13_SUITES[i];
        return o.ok && suite !== undefined && o.cipher === suite ? [suite] : [];
      })
    : [];
  const broken = acceptedSuites.filter((s) => suiteWeakness(s) === 'broken');
  const noFs = acceptedSuites.filter((s) => suiteWeakness(s) === 'no-forward-secrecy');
  const cbc = acceptedSuites.filter((s) => suiteWeakness(s) === 'cbc');
  const suiteList = `${v12 ?? 'TLS ≤1.2'} suites accepted: ${acceptedSuites.join(', ') || 'none'}; TLS 1.3 suites: ${tls13.join(', ') || 'none'} (${PROBED_SUITES.length} TLS ≤1.2 suites offered one by one)`;
  findings.push({
    id: 'tls.suites',
    check: 'tls',
    title: 'No broken (NULL, anonymous, RC4, 3DES) or CBC-mode suites',
    status: broken.length === 0 && cbc.length === 0 ? 'pass' : 'fail',
    clauses: TLS_CLAUSES,
    evidence: `${broken.length > 0 ? `broken: ${broken.join(', ')}. ` : ''}${cbc.length > 0 ? `CBC: ${cbc.join(', ')}. ` : ''}${suiteList}`,
    ...(broken.length === 0 && cbc.length === 0 ? {} : { severity: broken.length > 0 ? ('high' as const) : ('medium' as const), fix: 'Offer only AEAD suites (AES-256-GCM) with ECDHE key exchange.' }),
  });
  findings.push({
    id: 'tls.forward-secrecy',
    check: 'tls',
    title: 'Every accepted suite has forward secrecy (ECDHE/DHE or TLS 1.3)',
    status: noFs.length === 0 && (acceptedSuites.length > 0 || tls13.length > 0 || accepted.includes('TLSv1.3')) ? 'pass' : 'fail',
    clauses: [{ id: 'NVR-5.3.1.1a' }, { id: 'CAM-T-com-1' }],
    evidence: noFs.length === 0 ? `all accepted suites use ephemeral key exchange. ${suiteList}` : `RSA key exchange (no forward secrecy): ${noFs.join(', ')}`,
    ...(noFs.length === 0 ? {} : { severity: 'medium' as const, fix: 'Remove static-RSA key exchange suites; keep ECDHE only.' }),
  });
  const aes256 = [...acceptedSuites, ...tls13].filter((s) => /AES256|AES_256/.test(s));
  const notAes256 = [...acceptedSuites, ...tls13].filter((s) => !/AES256|AES_256/.test(s));
  findings.push({
    id: 'tls.aes256',
    check: 'tls',
    title: 'The secure channel supports AES-256 (AES-256-GCM)',
    status: aes256.length > 0 ? 'pass' : 'fail',
    clauses: [{ id: 'NVR-5.3.1.2a' }, { id: 'CAM-T-priv-3', partial: 'video streams were not probed' }],
    evidence: `AES-256 suites accepted: ${aes256.join(', ') || 'none'}${notAes256.length > 0 ? `; also accepted (weaker than AES-256 or not FIPS-approved): ${notAes256.join(', ')}` : ''}`,
    ...(aes256.length > 0 ? {} : { severity: 'medium' as const, fix: 'Enable ECDHE-ECDSA/RSA-AES256-GCM-SHA384 and TLS_AES_256_GCM_SHA384.' }),
  });

  const groupVersion: TlsVersion = accepted.includes('TLSv1.3') ? 'TLSv1.3' : (v12 ?? 'TLSv1.2');
  const groups = await mapBounded(GROUPS, 3, (g) => observeHandshake({ ...base, minVersion: groupVersion, maxVersion: groupVersion, ecdhCurve: g }), ctx.signal);
  const acceptedGroups = GROUPS.filter((_, i) => groups[i]?.ok === true);
  const weakGroups = acceptedGroups.filter((g) => g === 'ffdhe2048');
  findings.push({
    id: 'tls.groups',
    check: 'tls',
    title: 'Key-exchange groups are of at least 128-bit strength',
    status: acceptedGroups.length > 0 && weakGroups.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'ACS-5.3.1.1', partial: 'only the TLS of the management port was examined' }],
    evidence: `${groupVersion} groups accepted: ${acceptedGroups.join(', ') || 'none'} (offered: ${GROUPS.join(', ')})`,
    ...(weakGroups.length === 0 ? {} : { severity: 'low' as const, fix: 'Prefer P-256/P-384 (or X25519) over finite-field groups of 2048 bits.' }),
  });

  const certificate = accepted.map((v) => byVersion.get(v)?.certificate).find((c) => c !== undefined);
  if (certificate !== undefined) findings.push(certificateFinding(certificate, ctx.host));
  const scan = await sslscanFinding(ctx);
  if (scan !== undefined) findings.push(scan);
  return findings;
}
