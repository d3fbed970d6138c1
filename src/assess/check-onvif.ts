// onvif: the lab's ONVIF tests (seed 001; CAM-T-auth-1, CAM-T-sys-10). When an ONVIF device
// service answers SOAP at the web interface: GetDeviceInformation without credentials must be
// refused; with an account (--credentials), a request carrying a valid WS-Security
// UsernameToken is sent once (it must be accepted) and then re-sent byte for byte: the replay
// must be refused (WSS UsernameToken Profile 1.0 §4: nonce once, Created fresh). The replay
// counts as one failed login on a target with a lockout; the password never leaves in clear.
import type { AssessContext } from './context.ts';
import { endpointUrl, type ProbeResponse, type WebEndpoint } from './http-probe.ts';
import { ONVIF_DEVICE_PATH, answered, describeAnswer, deviceRequest, deviceTime, isSoap, postSoap, usernameToken } from './onvif-probe.ts';
import type { ClauseRef, Finding } from './types.ts';

const REPLAY_CLAUSES: ClauseRef[] = [{ id: 'CAM-T-auth-1', partial: 'the ONVIF interface only; RTSP and the web login are judged by the rtsp and credentials checks' }];

function anonymousFinding(r: ProbeResponse): Finding {
  const base = {
    id: 'onvif.anonymous',
    check: 'onvif' as const,
    title: 'ONVIF GetDeviceInformation without credentials is refused',
    clauses: [{ id: 'CAM-T-sys-10', partial: 'the ONVIF interface only' }, { id: 'CAM-T-auth-1', partial: 'the ONVIF interface only' }],
  };
  if (answered(r, 'GetDeviceInformation')) {
    return { ...base, status: 'fail', severity: 'high', evidence: `answered without credentials: ${describeAnswer(r)} with a GetDeviceInformationResponse`, fix: 'Require a WS-Security UsernameToken (PasswordDigest) for every ONVIF operation but GetSystemDateAndTime.' };
  }
  return { ...base, status: 'pass', evidence: `refused: ${describeAnswer(r)}` };
}

async function replayFinding(ctx: AssessContext, web: WebEndpoint, clockOffsetMs: number): Promise<Finding> {
  const base = { id: 'onvif.replay', check: 'onvif' as const, title: 'A captured ONVIF UsernameToken re-sent byte for byte is refused', clauses: REPLAY_CLAUSES };
  const creds = ctx.credentials;
  if (creds === undefined) return { ...base, status: 'manual', evidence: 'not run: needs an account allowed to read device information (--credentials)' };
  // Created from the device's own clock, so a skewed clock does not hide the replay defence.
  const created = new Date(Date.now() + clockOffsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const request = deviceRequest('GetDeviceInformation', usernameToken(creds.username, creds.password, created));
  const first = await postSoap(web, ONVIF_DEVICE_PATH, request);
  if (!answered(first, 'GetDeviceInformation')) {
    const httpDigest = first.status === 401 && /digest/i.test(first.headers['www-authenticate'] ?? '');
    return {
      ...base,
      status: 'manual',
      evidence: httpDigest
        ? `the device asks for HTTP Digest instead of a UsernameToken (${describeAnswer(first)}); replay of HTTP Digest is not probed here`
        : `the given account was not accepted with a UsernameToken (${describeAnswer(first)}), so no capture to replay`,
    };
  }
  const replay = await postSoap(web, ONVIF_DEVICE_PATH, request);
  const evidence = `UsernameToken (PasswordDigest, Created ${created}) accepted once (${describeAnswer(first)}), the same request replayed → ${describeAnswer(replay)}`;
  if (answered(replay, 'GetDeviceInformation')) {
    return { ...base, status: 'fail', severity: 'high', evidence: `${evidence} (replay accepted)`, fix: 'Accept each UsernameToken nonce once and only with a Created within a few minutes of the device clock (WSS UsernameToken Profile 1.0 §4).' };
  }
  return { ...base, status: 'pass', evidence };
}

export async function runOnvifCheck(ctx: AssessContext): Promise<Finding[]> {
  const web = ctx.web;
  const discovery = { id: 'onvif.discovery', check: 'onvif' as const, title: 'ONVIF device service', clauses: [] };
  if (web === undefined) return [{ ...discovery, status: 'not-applicable', evidence: 'no web interface answered, so no ONVIF service to probe' }];
  const url = endpointUrl(web, ONVIF_DEVICE_PATH);
  const time = await postSoap(web, ONVIF_DEVICE_PATH, deviceRequest('GetSystemDateAndTime'));
  if (!isSoap(time)) return [{ ...discovery, status: 'not-applicable', evidence: `no SOAP answer at POST ${url} (HTTP ${time.status})` }];
  const deviceMs = deviceTime(time);
  if (deviceMs === undefined) ctx.notes.push('GetSystemDateAndTime gave no UTC time; UsernameTokens use this machine\'s clock');
  const offset = deviceMs === undefined ? 0 : deviceMs - Date.now();
  const anonymous = anonymousFinding(await postSoap(web, ONVIF_DEVICE_PATH, deviceRequest('GetDeviceInformation')));
  return [
    { ...discovery, status: 'pass', evidence: `SOAP at POST ${url}: GetSystemDateAndTime → ${describeAnswer(time)}` },
    anonymous,
    await replayFinding(ctx, web, offset),
  ];
}
