// What the vendor declares, and the account the lab is given. Both are files the operator passes
// (--declaration, --credentials); for a Vigil target without a file, the declaration comes from
// Vigil's own declared-services table (src/docs/services.ts), read as a document.
import { readFileSync, statSync } from 'node:fs';
import { VigilError, type ErrorCode } from '../core/errors.ts';
import { DECLARED_SERVICES } from '../docs/services.ts';
import type { Credentials, Declaration, DeclaredPort } from './types.ts';
import { vigilStatements } from './vendor-evidence.ts';

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ENTRIES = 1024;

/** The login API shape probed by the credential and web checks (Vigil's, by default). */
export const VIGIL_AUTH_PATHS = { login: '/api/v1/auth/login', logout: '/api/v1/auth/logout', me: '/api/v1/auth/me' } as const;

/** Vigil routes that must refuse anonymous requests (the API is default-deny). */
export const VIGIL_PROTECTED_PATHS: readonly string[] = [
  '/api/v1/system/info',
  '/api/v1/system/services',
  '/api/v1/openapi.json',
  '/api/v1/users',
  '/api/v1/audit/events',
  '/api/v1/audit/export',
  '/api/v1/alarms',
  '/api/v1/auth/me',
  '/api/v1/auth/sessions',
  '/api/v1/auth/tokens',
];

export const VIGIL_WEB_PATHS: readonly string[] = ['/', '/api/v1/health?probe=1', '/api/v1/audit/events?limit=10&action=x', '/api/v1/alarms?limit=10', '/api/v1/users?limit=10'];

function readJsonFile(file: string, code: ErrorCode, what: string): unknown {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw new VigilError(code, `${what} ${file} is larger than 1 MiB`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw new VigilError(code, `cannot read ${what} ${file}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new VigilError(code, `${what} ${file} is not valid JSON`, { cause: err });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v)) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: ${field} must be an object of clause ID → text`);
  const out: Record<string, string> = {};
  const entries = Object.entries(v);
  if (entries.length > MAX_ENTRIES) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: ${field} has more than ${MAX_ENTRIES} entries`);
  for (const [k, text] of entries) {
    if (typeof text !== 'string' || text.length > 4000) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: ${field}.${k} must be a string of at most 4000 characters`);
    out[k] = text;
  }
  return out;
}

function pathList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 64 || !v.every((p) => typeof p === 'string' && p.startsWith('/') && p.length <= 2048)) {
    throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: ${field} must be at most 64 paths starting with /`);
  }
  return v as string[];
}

/**
 * Declaration file:
 * { "services": [{ "id": "https", "protocol": "tcp", "port": 443 }],
 *   "notApplicable": { "NVR-5.3.2.1b": "no Wi-Fi" }, "statements": { "NVR-5.1.1.1a": "..." },
 *   "webPaths": ["/search?q=x"], "protectedPaths": ["/api/config"] }
 */
export function parseDeclaration(value: unknown, source: string): Declaration {
  if (!isRecord(value)) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', 'declaration: the file must hold a JSON object');
  const rawServices = value['services'];
  if (!Array.isArray(rawServices) || rawServices.length > MAX_ENTRIES) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', 'declaration: services must be an array (at most 1024 entries)');
  const services: DeclaredPort[] = rawServices.map((s: unknown, i) => {
    if (!isRecord(s)) throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: services[${i}] must be an object`);
    const { protocol, port, id } = s;
    if ((protocol !== 'tcp' && protocol !== 'udp') || typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new VigilError('VIGIL_ASSESS_DECLARATION_INVALID', `declaration: services[${i}] needs protocol "tcp"|"udp" and a port 0-65535`);
    }
    return { protocol, port, id: typeof id === 'string' ? id.slice(0, 100) : `${protocol}/${port}` };
  });
  return {
    source,
    services,
    notApplicable: stringMap(value['notApplicable'], 'notApplicable'),
    statements: stringMap(value['statements'], 'statements'),
    webPaths: pathList(value['webPaths'], 'webPaths'),
    protectedPaths: pathList(value['protectedPaths'], 'protectedPaths'),
  };
}

export function loadDeclaration(file: string): Declaration {
  return parseDeclaration(readJsonFile(file, 'VIGIL_ASSESS_DECLARATION_INVALID', 'declaration'), `file ${file}`);
}

export function loadCredentials(file: string): Credentials {
  const v = readJsonFile(file, 'VIGIL_ASSESS_CREDENTIALS_INVALID', 'credentials file');
  const pair = (x: unknown): { username: string; password: string } | undefined =>
    isRecord(x) && typeof x['username'] === 'string' && typeof x['password'] === 'string' && x['username'].length <= 256 && x['password'].length <= 1024
      ? { username: x['username'], password: x['password'] }
      : undefined;
  const main = pair(v);
  if (main === undefined) throw new VigilError('VIGIL_ASSESS_CREDENTIALS_INVALID', 'credentials file: needs {"username": "...", "password": "..."}');
  const lockout = isRecord(v) && v['lockout'] !== undefined ? pair(v['lockout']) : undefined;
  if (isRecord(v) && v['lockout'] !== undefined && lockout === undefined) throw new VigilError('VIGIL_ASSESS_CREDENTIALS_INVALID', 'credentials file: lockout needs username and password');
  const token = isRecord(v) ? v['apiToken'] : undefined;
  if (token !== undefined && (typeof token !== 'string' || !/^[A-Za-z0-9_-]{16,200}$/.test(token))) {
    throw new VigilError('VIGIL_ASSESS_CREDENTIALS_INVALID', 'credentials file: apiToken must be an API token (16-200 characters A-Z a-z 0-9 _ -)');
  }
  return { ...main, ...(lockout === undefined ? {} : { lockout }), ...(token === undefined ? {} : { apiToken: token }) };
}

/** Vigil's own declaration: what it says it runs, fetched from the target or derived from the table. */
export function vigilDeclaration(httpsPort: number, fetched: ReadonlyArray<{ id: string; protocol: string; port: number }> | undefined): Declaration {
  const known = new Set(DECLARED_SERVICES.map((s) => s.id));
  const services: DeclaredPort[] =
    fetched === undefined
      ? DECLARED_SERVICES.filter((s) => s.defaultState === 'on').map((s) => ({ id: s.id, protocol: s.protocol, port: s.id === 'https-api' ? httpsPort : -1 })).filter((s) => s.port >= 0)
      : fetched
          .filter((s) => (s.protocol === 'tcp' || s.protocol === 'udp') && known.has(s.id))
          .map((s) => ({ id: s.id, protocol: s.protocol as 'tcp' | 'udp', port: s.port }));
  return {
    source:
      fetched === undefined
        ? "Vigil's declared-services table (DECLARED_SERVICES), services on by default, HTTPS on the given port"
        : "the target's /api/v1/system/services (Vigil's DECLARED_SERVICES as bound)",
    services,
    notApplicable: {
      'NVR-5.3.2.1b': 'Vigil is software and manages no Wi-Fi interface (declaration)',
      'NVR-5.3.2.1c': 'Vigil is software and manages no Wi-Fi interface (declaration)',
      'NVR-5.2.3.1c': 'Vigil has no online update path: updates are signed, encrypted offline packages applied with `vigil update apply` (declaration; src/update)',
    },
    // The vendor's statements for what only the device shows, with Vigil's documents attached
    // (those of this installation: the lab confirms the target runs the same version).
    statements: vigilStatements(),
    webPaths: [...VIGIL_WEB_PATHS],
    protectedPaths: [...VIGIL_PROTECTED_PATHS],
  };
}

export function emptyDeclaration(): Declaration {
  return { source: 'none given', services: [], notApplicable: {}, statements: {}, webPaths: ['/'], protectedPaths: [] };
}
