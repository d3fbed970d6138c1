// pino logger. Secrets never reach a log line (style.md; ACS-5.6.1.8): every field that can
// carry one is redacted by path, wherever it sits in a logged object.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Field names whose values are always censored, at any of the nesting depths listed. */
export const REDACTED_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'setupToken',
  'apiToken',
  'secret',
  'totpSecret',
  'code',
  'pin',
  'key',
  'privateKey',
  'kek',
  'dek',
  'authorization',
  'cookie',
  'set-cookie',
  'x-csrf-token',
  'credentials',
  'passphrase',
  'authPassphrase',
  'privPassphrase',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = k.startsWith('[') ? '' : '.';
    paths.push(k, `*${dot}${k}`, `*.*${dot}${k}`, `req.headers${dot}${k}`);
  }
  return paths;
}

export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: { name: options.name ?? 'vigil' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: '[redacted]' },
  };
  return options.destination === undefined ? pino(opts) : pino(opts, options.destination);
}
