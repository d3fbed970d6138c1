// The target's own HTTPS API as the lab uses it with the administrator's API token the vendor
// handed over (--credentials "apiToken"): Bearer authentication, JSON in and out, one bounded
// request per call. The token goes only into the Authorization header, never into evidence.
import type { AssessContext } from './context.ts';
import { excerpt, httpProbe, type WebEndpoint } from './http-probe.ts';

export interface ApiAnswer {
  status: number;
  json: unknown;
  body: string;
}

export interface VigilApi {
  call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<ApiAnswer>;
}

/** Why the authenticated probes cannot run, or undefined when they can. */
export function apiUnavailable(ctx: AssessContext): string | undefined {
  if (ctx.web === undefined) return `no HTTPS interface answered on ${ctx.host}:${ctx.port}`;
  if (ctx.web.scheme !== 'https') return 'the management interface is plain HTTP: no token is sent over it';
  if (!ctx.isVigil) return 'the target does not present Vigil\'s API (GET /api/v1/health); a third-party device is tested on site with its own tools';
  if (ctx.credentials?.apiToken === undefined) return 'no administrator API token given (--credentials {"apiToken": "vgl_…"})';
  return undefined;
}

export function vigilApi(web: WebEndpoint, token: string): VigilApi {
  return {
    async call(method, path, body, timeoutMs = 15_000) {
      const r = await httpProbe(web, {
        method,
        path,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeoutMs,
        maxBytes: 1024 * 1024,
      });
      let json: unknown;
      try {
        json = r.truncated ? undefined : (JSON.parse(r.body) as unknown);
      } catch {
        json = undefined;
      }
      return { status: r.status, json, body: excerpt(r.body, 200) };
    },
  };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The array under `key` of a JSON object answer, or undefined. */
export function arrayField(json: unknown, key: string): unknown[] | undefined {
  if (!isRecord(json)) return undefined;
  const v = json[key];
  return Array.isArray(v) ? v : undefined;
}

/** Full ISO 8601 timestamp with date, time to the second and a zone (NVR-5.2.7.1a "full timestamp"). */
export function isFullTimestamp(v: unknown): boolean {
  return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && Number.isFinite(Date.parse(v));
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
