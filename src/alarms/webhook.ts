// Alarm delivery to webhook receivers (NVR-5.2.7.2a "alarm raised", ACS-5.2.1.14 active alert).
// Each alarm change is POSTed as JSON to every configured URL:
//   Content-Type: application/json
//   X-Vigil-Event-Id: <uuid>            the same id on every retry (receivers de-duplicate)
//   X-Vigil-Timestamp: <ISO 8601 UTC>   also inside the body, so the HMAC covers it
//   X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, body)>   when secretEnv names a set variable
// Only https: (or http: on a loopback address when explicitly allowed); certificate validation
// is always on, with an optional per-webhook CA file. A failed attempt (network, TLS, timeout,
// non-2xx, redirects included) is retried with capped exponential backoff and full jitter, up
// to a bounded number of attempts; the outbound queue is bounded and drops the oldest.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Config } from '../core/config.ts';
import { VigilError, asError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export interface WebhookTuning {
  /** Deadline of one attempt, connect to response end. */
  timeoutMs: number;
  /** Attempts per delivery, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Deliveries waiting per receiver; the oldest is dropped beyond it. */
  queueCap: number;
}

export const DEFAULT_WEBHOOK_TUNING: WebhookTuning = { timeoutMs: 5000, attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, queueCap: 1000 };

export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  /** Deliveries abandoned after the last attempt. */
  givenUp: number;
  /** Deliveries dropped because the queue was full. */
  dropped: number;
  queued: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface WebhookEvent {
  id: string;
  /** ISO 8601 UTC. */
  at: string;
  body: string;
}

type WebhookConfig = Config['alarms']['webhooks'][number];

interface Delivery {
  event: WebhookEvent;
  attempt: number;
}

const LOOPBACK_NAMES = new Set(['localhost', '[::1]']);

function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_NAMES.has(hostname)) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/** Throws VIGIL_WEBHOOK_URL_INVALID for anything but https:, or loopback http: when allowed. */
export function validateWebhookUrl(raw: string, allowLoopbackHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VigilError('VIGIL_WEBHOOK_URL_INVALID', 'webhook URL is not a valid URL');
  }
  const where = `${url.protocol}//${url.host}`;
  if (url.username !== '' || url.password !== '') {
    // Secrets never go in URLs: use secretEnv.
    throw new VigilError('VIGIL_WEBHOOK_URL_INVALID', `webhook URL ${where} must not carry credentials`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname)) return url;
  const why = url.protocol === 'http:' ? 'http: is only allowed on a loopback address with webhookAllowLoopbackHttp' : 'only https: is allowed';
  throw new VigilError('VIGIL_WEBHOOK_URL_INVALID', `webhook URL ${where}: ${why}`, { details: { protocol: url.protocol } });
}

class WebhookTarget {
  readonly url: URL;
  /** For logs: no path or query, which may carry a token. */
  readonly label: string;
  readonly #secret: Buffer | undefined;
  readonly #agent: http.Agent;
  readonly #queue: Delivery[] = [];
  readonly #tuning: WebhookTuning;
  readonly #logger: Logger;
  readonly #stats: WebhookStats;
  #current: Delivery | undefined;
  #timer: NodeJS.Timeout | undefined;
  #request: http.ClientRequest | undefined;
  #closed = false;

  constructor(url: URL, secret: Buffer | undefined, ca: string | undefined, tuning: WebhookTuning, logger: Logger, stats: WebhookStats) {
    this.url = url;
    this.label = `${url.protocol}//${url.host}`;
    this.#secret = secret;
    this.#tuning = tuning;
    this.#logger = logger;
    this.#stats = stats;
    this.#agent =
      url.protocol === 'https:'
        ? new https.Agent({ keepAlive: false, maxSockets: 1, minVersion: 'TLSv1.2', ...(ca === undefined ? {} : { ca }) })
        : new http.Agent({ keepAlive: false, maxSockets: 1 });
  }

  get queued(): number {
    return this.#queue.length + (this.#current === undefined ? 0 : 1);
  }

  enqueue(event: WebhookEvent): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#tuning.queueCap) {
      const old = this.#queue.shift();
      this.#stats.dropped++;
      this.#logger.warn({ webhook: this.label, eventId: old?.event.id }, 'alarms: webhook queue full; oldest notification dropped');
    }
    this.#queue.push({ event, attempt: 0 });
    this.#pump();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#request?.destroy(new Error('webhook dispatcher closed'));
    const pending = this.#queue.length + (this.#current === undefined ? 0 : 1);
    if (pending > 0) this.#logger.warn({ webhook: this.label, pending }, 'alarms: closing with undelivered webhook notifications');
    this.#queue.length = 0;
    this.#current = undefined;
    this.#agent.destroy();
  }

  #pump(): void {
    if (this.#closed || this.#current !== undefined) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#current = next;
    void this.#attempt(next);
  }

  async #attempt(d: Delivery): Promise<void> {
    d.attempt++;
    try {
      await this.#post(d.event);
      this.#stats.delivered++;
      this.#finish(d);
    } catch (err) {
      if (this.#closed) return;
      const message = asError(err).message;
      this.#stats.failedAttempts++;
      this.#stats.lastError = `${this.label}: ${message}`;
      this.#stats.lastErrorAt = Date.now();
      if (d.attempt >= this.#tuning.attempts) {
        this.#stats.givenUp++;
        this.#logger.error({ webhook: this.label, eventId: d.event.id, attempts: d.attempt, error: message }, 'alarms: webhook notification abandoned');
        this.#finish(d);
        return;
      }
      this.#logger.warn({ webhook: this.label, eventId: d.event.id, attempt: d.attempt, error: message }, 'alarms: webhook delivery failed; retrying');
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#attempt(d);
      }, this.#delayMs(d.attempt));
    }
  }

  #finish(d: Delivery): void {
    if (this.#current === d) this.#current = undefined;
    this.#pump();
  }

  /** Capped exponential backoff with full jitter (a random delay up to the capped step). */
  #delayMs(attempt: number): number {
    const step = Math.min(this.#tuning.maxDelayMs, this.#tuning.baseDelayMs * 2 ** Math.min(attempt - 1, 20));
    return Math.max(1, Math.round(step / 2 + Math.random() * (step / 2)));
  }

  #post(event: WebhookEvent): Promise<void> {
    const body = Buffer.from(event.body, 'utf8');
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'vigil-alarms',
      'x-vigil-event-id': event.id,
      'x-vigil-timestamp': event.at,
    };
    if (this.#secret !== undefined) headers['x-vigil-signature'] = `sha256=${createHmac('sha256', this.#secret).update(body).digest('hex')}`;
    return new Promise<void>((resolve, reject) => {
      const request = (this.url.protocol === 'https:' ? https : http).request(this.url, { method: 'POST', headers, agent: this.#agent });
      this.#request = request;
      const deadline = setTimeout(() => request.destroy(new Error(`timed out after ${String(this.#tuning.timeoutMs)} ms`)), this.#tuning.timeoutMs);
      const done = (err?: Error): void => {
        clearTimeout(deadline);
        if (this.#request === request) this.#request = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      request.on('error', (err) => done(err));
      request.on('response', (res) => {
        res.resume(); // the body is not needed; drain it so the socket is released
        res.on('error', (err) => done(err));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) done();
          else done(new Error(`HTTP ${String(status)}`));
        });
      });
      request.end(body);
    });
  }
}

export class WebhookDispatcher {
  readonly #targets: WebhookTarget[];
  readonly #stats: WebhookStats = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0, queued: 0, lastError: null, lastErrorAt: null };

  private constructor(build: (stats: WebhookStats) => WebhookTarget[]) {
    this.#targets = build(this.#stats);
  }

  /** Validates every webhook (VIGIL_WEBHOOK_URL_INVALID, VIGIL_CONFIG_INVALID) before any is used. */
  static create(options: {
    webhooks: readonly WebhookConfig[];
    allowLoopbackHttp: boolean;
    logger: Logger;
    env?: NodeJS.ProcessEnv;
    tuning?: Partial<WebhookTuning>;
  }): WebhookDispatcher {
    const env = options.env ?? process.env;
    const tuning = { ...DEFAULT_WEBHOOK_TUNING, ...options.tuning };
    const prepared = options.webhooks.map((w) => {
      const url = validateWebhookUrl(w.url, options.allowLoopbackHttp);
      let ca: string | undefined;
      if (w.caFile !== undefined && w.caFile !== '') {
        try {
          ca = readFileSync(w.caFile, 'utf8');
        } catch (err) {
          throw new VigilError('VIGIL_CONFIG_INVALID', `webhook caFile ${w.caFile} cannot be read`, { cause: err });
        }
      }
      let secret: Buffer | undefined;
      if (w.secretEnv !== '') {
        const value = env[w.secretEnv];
        if (value !== undefined && value !== '') secret = Buffer.from(value, 'utf8');
        else options.logger.warn({ webhook: `${url.protocol}//${url.host}`, secretEnv: w.secretEnv }, 'alarms: webhook secretEnv is not set; deliveries are unsigned');
      }
      return { url, ca, secret };
    });
    return new WebhookDispatcher((stats) => prepared.map((p) => new WebhookTarget(p.url, p.secret, p.ca, tuning, options.logger, stats)));
  }

  get size(): number {
    return this.#targets.length;
  }

  enqueue(event: WebhookEvent): void {
    for (const t of this.#targets) t.enqueue(event);
  }

  stats(): WebhookStats {
    return { ...this.#stats, queued: this.#targets.reduce((n, t) => n + t.queued, 0) };
  }

  close(): void {
    for (const t of this.#targets) t.close();
  }
}
