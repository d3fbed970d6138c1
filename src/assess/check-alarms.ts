// alarms (intrusive, Vigil targets, administrator API token): the lab's "pull a camera stream →
// alarm raised and logged within N s" (NVR-5.1.2.1a) done through the target's own API. One
// probe camera pointing at a dead RTSP address on the target is added, the alarm API is polled
// (bounded) for its signal-loss alarm, the security log for the matching event; a playback of the
// camera is asked for (a file access the log must show); then the camera is removed and the alarm
// it caused acknowledged and cleared, and the log must show all of it (NVR-5.2.7.1a).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { AssessContext } from './context.ts';
import type { Finding } from './types.ts';
import { apiUnavailable, arrayField, isFullTimestamp, isRecord, sleep, vigilApi, type VigilApi } from './vigil-api.ts';

/** Ports that nothing serves on a recorder (discard, daytime, qotd, chargen, tcpmux). */
const DEAD_PORT_CANDIDATES = [9, 13, 17, 19, 1];
const ALARM_FIELDS = ['id', 'type', 'severity', 'source', 'message', 'state', 'raisedAt'] as const;
const POLL_MS = 1000;

type Alarm = Record<string, unknown>;

function deadPort(ctx: AssessContext): number {
  const open = new Set(ctx.openTcp ?? []);
  return DEAD_PORT_CANDIDATES.find((p) => !open.has(p)) ?? 9;
}

function aboutCamera(a: Alarm, cameraId: string): boolean {
  const details = isRecord(a['details']) ? a['details'] : {};
  return (typeof a['source'] === 'string' && a['source'].includes(cameraId)) || Object.values(details).some((v) => v === cameraId);
}

/** The audit events of one action naming the camera, newest first (bounded). */
async function auditFor(api: VigilApi, action: string, cameraId: string): Promise<{ status: number; events: Alarm[] }> {
  const r = await api.call('GET', `/api/v1/audit/events?action=${encodeURIComponent(action)}&limit=100&order=newest`);
  const events = (arrayField(r.json, 'events') ?? []).filter(isRecord).filter((e) => typeof e['target'] === 'string' && e['target'].includes(cameraId));
  return { status: r.status, events };
}

export async function runAlarmsCheck(ctx: AssessContext): Promise<Finding[]> {
  // The catalogue's test is "pull a camera stream / take a link down": the stream is what is cut.
  const clause = [{ id: 'NVR-5.1.2.1a' }];
  const base = { id: 'alarms.signal-loss', check: 'alarms' as const, title: 'A camera whose stream is lost raises an alarm, logged, within the bound', clauses: clause };
  if (ctx.profile !== 'nvr') return [{ ...base, clauses: [], status: 'not-applicable', evidence: 'the signal-loss probe applies to recorders (--profile nvr)' }];
  const unavailable = apiUnavailable(ctx);
  if (unavailable !== undefined) return [{ ...base, status: 'manual', evidence: `not run: ${unavailable}; on site the lab pulls a camera's cable and times the alarm` }];
  if (!ctx.intrusive) return [{ ...base, status: 'manual', evidence: 'not run: the probe adds a camera to the target and removes it after; run with --intrusive' }];
  const web = ctx.web;
  const token = ctx.credentials?.apiToken;
  if (web === undefined || token === undefined) return [];
  const api = vigilApi(web, token);
  const waitS = ctx.alarmWaitSeconds;
  const host = isIP(ctx.host) === 6 ? `[${ctx.host}]` : ctx.host;
  const url = `rtsp://${host}:${deadPort(ctx)}/vigil-assess-signal-loss`;
  const name = `vigil-assess-${randomBytes(4).toString('hex')}`;

  const created = await api.call('POST', '/api/v1/cameras', { name, url, recordingMode: 'continuous' });
  const cameraId = isRecord(created.json) && typeof created.json['id'] === 'string' ? created.json['id'] : undefined;
  if (created.status !== 201 || cameraId === undefined) {
    return [{ ...base, status: 'manual', evidence: `the probe camera could not be added (POST /api/v1/cameras → HTTP ${created.status}: ${created.body}); the token needs camera.manage` }];
  }
  ctx.progress(`alarms: probe camera ${name} (${cameraId}) → ${url}; waiting up to ${waitS} s for its signal-loss alarm`);
  const started = Date.now();
  const findings: Finding[] = [];
  let alarm: Alarm | undefined;
  let polls = 0;
  let cleanup: string[] = [];
  try {
    // Bounded: at most waitS polls, one per second, the check's own time bound above that.
    while (alarm === undefined && Date.now() - started < waitS * 1000 && !ctx.signal.aborted) {
      polls++;
      const r = await api.call('GET', '/api/v1/alarms?state=active&limit=200');
      alarm = (arrayField(r.json, 'alarms') ?? []).filter(isRecord).find((a) => aboutCamera(a, cameraId));
      if (alarm === undefined) await sleep(POLL_MS, ctx.signal);
    }
    const latencyS = ((Date.now() - started) / 1000).toFixed(1);
    // A file access while the camera exists: no video yet, so it fails, and the log must say so.
    const now = Date.now();
    const playback = await api.call('GET', `/api/v1/cameras/${cameraId}/playback?from=${new Date(now - 60_000).toISOString()}&to=${new Date(now).toISOString()}`);
    const logged = await auditFor(api, 'video.signal_lost', cameraId);
    if (alarm === undefined) {
      findings.push({ ...base, status: 'fail', evidence: `camera "${name}" → ${url} (nothing listens there): no active alarm naming it after ${latencyS} s (${polls} polls of GET /api/v1/alarms); audit events video.signal_lost for it: ${logged.events.length}`, severity: 'high', fix: 'Raise an alarm (and log it) when a camera delivers no video for a few seconds.' });
    } else {
      const missing = ALARM_FIELDS.filter((f) => alarm?.[f] === undefined || alarm[f] === null || alarm[f] === '');
      if (!isFullTimestamp(alarm['raisedAt'])) missing.push('raisedAt as a full timestamp' as (typeof ALARM_FIELDS)[number]);
      const summary = `alarm ${String(alarm['type'])} (${String(alarm['severity'])}, source ${String(alarm['source'])}, raised ${String(alarm['raisedAt'])}) after ${latencyS} s`;
      const problems = [...(missing.length > 0 ? [`the alarm lacks ${missing.join(', ')}`] : []), ...(logged.events.length === 0 ? [`no video.signal_lost event names the camera in the security log (GET /api/v1/audit/events → HTTP ${logged.status})`] : [])];
      findings.push({
        ...base,
        status: problems.length === 0 ? 'pass' : 'fail',
        evidence: `camera "${name}" → ${url} (nothing listens there): ${summary}, bound ${waitS} s; logged as video.signal_lost at ${String(logged.events[0]?.['ts'] ?? '—')}${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`,
        ...(problems.length === 0 ? {} : { severity: 'medium' as const, fix: 'Alarms carry type, severity, source, message and an ISO time, and each is logged.' }),
      });
    }
    findings.push({ id: 'alarms.playback-without-video', check: 'alarms', title: 'Playback of a camera without video fails cleanly', status: playback.status >= 400 && playback.status < 500 ? 'pass' : playback.status === 200 ? 'fail' : 'manual', clauses: [], evidence: `GET /api/v1/cameras/${cameraId}/playback (last minute) → HTTP ${playback.status}: ${playback.body}` });
  } finally {
    cleanup = await removeProbe(api, cameraId);
  }
  // The log shows what the lab did: the camera added, the file access, the camera removed.
  const trail: string[] = [];
  const missing: string[] = [];
  for (const action of ['camera.create', 'video.playback', 'camera.delete']) {
    const r = await auditFor(api, action, cameraId);
    const e = r.events[0];
    if (e === undefined) missing.push(`${action} (HTTP ${r.status})`);
    else trail.push(`${action} by ${String(e['actor'])} from ${String(e['source'])}, ${String(e['outcome'])}, at ${String(e['ts'])}`);
  }
  findings.push({
    id: 'alarms.audit-trail',
    check: 'alarms',
    title: 'The probe\'s own actions (camera added, playback asked, camera removed) are in the security log',
    status: missing.length === 0 ? 'pass' : 'fail',
    clauses: [{ id: 'NVR-5.2.7.1a', partial: 'the rest of the event fields are checked by the audit check' }],
    evidence: `${trail.join('; ')}${missing.length > 0 ? `${trail.length > 0 ? '; ' : ''}missing: ${missing.join(', ')}` : ''}; clean-up: ${cleanup.join('; ')}`,
    ...(missing.length === 0 ? {} : { severity: 'medium' as const, fix: 'Log every configuration change and every access to recordings, with who, from where and the outcome.' }),
  });
  return findings;
}

/** Removes the probe camera and acknowledges/clears the alarms it raised; says what happened. */
async function removeProbe(api: VigilApi, cameraId: string): Promise<string[]> {
  const done: string[] = [];
  const del = await api.call('DELETE', `/api/v1/cameras/${cameraId}`);
  done.push(`DELETE camera → HTTP ${del.status}`);
  const after = await api.call('GET', `/api/v1/cameras/${cameraId}`);
  done.push(`camera afterwards → HTTP ${after.status}${after.status === 404 ? ' (gone)' : ' (REMOVE IT BY HAND)'}`);
  const active = await api.call('GET', '/api/v1/alarms?state=active&limit=200');
  const acknowledged = await api.call('GET', '/api/v1/alarms?state=acknowledged&limit=200');
  const ours = [...(arrayField(active.json, 'alarms') ?? []), ...(arrayField(acknowledged.json, 'alarms') ?? [])].filter(isRecord).filter((a) => aboutCamera(a, cameraId)).slice(0, 10);
  for (const a of ours) {
    const id = typeof a['id'] === 'string' ? a['id'] : '';
    if (!/^[\w-]{1,100}$/.test(id)) continue;
    if (a['state'] === 'active') await api.call('POST', `/api/v1/alarms/${id}/acknowledge`, { comment: 'vigil assess: alarm caused by the signal-loss probe; probe camera removed' });
    const cleared = await api.call('POST', `/api/v1/alarms/${id}/clear`, {});
    done.push(`alarm ${id} cleared → HTTP ${cleared.status}`);
  }
  return done;
}
