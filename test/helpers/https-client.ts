// A small HTTPS client for end-to-end tests: real TLS with the device certificate as the only
// trusted CA (validation on, as a careful operator's client would), a cookie jar, and the
// CSRF header the API requires on state changes.
import https from 'node:https';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
  /** The body as received (binary responses such as video). */
  raw: Buffer;
  elapsedMs: number;
}

export class ApiClient {
  readonly #base: URL;
  readonly #ca: string;
  readonly #cookies = new Map<string, string>();
  csrfToken: string | undefined;
  bearer: string | undefined;
  /** Source address of the connections (another loopback address looks like another machine). */
  readonly localAddress: string | undefined;

  constructor(baseUrl: string, caPem: string, options: { localAddress?: string } = {}) {
    this.#base = new URL(baseUrl);
    this.#ca = caPem;
    this.localAddress = options.localAddress;
  }

  get cookies(): ReadonlyMap<string, string> {
    return this.#cookies;
  }

  /** A fresh client with no cookies or tokens (another browser). */
  anonymous(): ApiClient {
    return new ApiClient(this.#base.toString(), this.#ca, this.localAddress === undefined ? {} : { localAddress: this.localAddress });
  }

  /** A fresh client connecting from another source address, e.g. 127.0.0.2. */
  from(localAddress: string): ApiClient {
    return new ApiClient(this.#base.toString(), this.#ca, { localAddress });
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.#base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.#cookies.size > 0) headers['cookie'] = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.csrfToken !== undefined && method !== 'GET') headers['x-csrf-token'] = this.csrfToken;
    if (this.bearer !== undefined) headers['authorization'] = `Bearer ${this.bearer}`;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method, headers, ca: this.#ca, ...(this.localAddress === undefined ? {} : { localAddress: this.localAddress }), servername: url.hostname === '127.0.0.1' ? undefined : url.hostname, timeout: 60_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const text = raw.toString('utf8');
            this.#absorbCookies(res.headers['set-cookie']);
            let parsed: unknown = text;
            if (String(res.headers['content-type'] ?? '').includes('application/json') && text !== '') parsed = JSON.parse(text);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as T, text, raw, elapsedMs: performance.now() - started });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }
  post<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body);
  }

  #absorbCookies(setCookie: string[] | undefined): void {
    for (const c of setCookie ?? []) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}
