// Read side of the security event log: the query API (ACS-5.6.1.17, NVR-5.2.7.1a) and the
// signed JSONL export (ACS-5.6.1.6/5.6.1.16: append-only export that can be verified offline).
// Read-only by construction: nothing here, or anywhere, updates or deletes an event
// (NVR-5.2.7.1b, ACS-5.6.1.11); the retention purge in audit-log.ts is the one exception.
//
// Export format: UTF-8 JSONL. exportJsonl yields each line without its terminator; the file
// form is every line followed by "\n".
//   {"type":"event","seq":…,"ts":…,"category":…,"action":…,"actor":…,"source":…,"target":…,
//    "outcome":…,"details":{…},"prev_hash":…,"hash":…}            one line per event, oldest first
//   {"type":"signature","keyId":…,"algorithm":"Ed25519","sha256":<hex>,"signature":<b64>,"count":N}
// sha256 is over the bytes of every preceding line (with their "\n"); the signature is Ed25519
// over UTF-8("vigil-audit-export\n" || N || "\n" || sha256hex) (see canonical.ts).
import { createHash } from 'node:crypto';
import type { Store } from '../store/database.ts';
import { VigilError } from '../core/errors.ts';
import { AuditRepository, type AuditEventRow } from './audit-repository.ts';
import { canonicalDetails, exportSignatureMessage, hashEvent, parseStoredDetails, verifyEd25519, type Details } from './canonical.ts';
import type { AuditEvent, AuditSigner } from './types.ts';

export const MAX_LIST_LIMIT = 1000;
const EXPORT_PAGE = 1000;

export interface AuditListFilter {
  /** Inclusive lower bound, ISO 8601. */
  from?: string;
  /** Inclusive upper bound, ISO 8601. */
  to?: string;
  actor?: string;
  action?: string;
  category?: string;
  outcome?: string;
  /** Keyset cursor: continue after this seq in the chosen order. */
  afterSeq?: number;
  /** 1…1000, default 100. */
  limit?: number;
  /** Default 'newest'. */
  order?: 'newest' | 'oldest';
}

export type AuditExportFilter = Omit<AuditListFilter, 'afterSeq' | 'limit' | 'order'>;

export interface ExportVerification {
  ok: boolean;
  count: number;
  keyId: string | null;
  problems: string[];
}

function normalizeTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new VigilError('VIGIL_VALIDATION', `${name} must be an ISO 8601 time`, { details: { field: name } });
  return new Date(ms).toISOString();
}

function toEvent(row: AuditEventRow): AuditEvent {
  return { ...row, details: parseStoredDetails(row.details) };
}

export class AuditQuery {
  readonly #repo: AuditRepository;

  constructor(options: { store: Store }) {
    this.#repo = new AuditRepository(options.store.db);
  }

  async list(filter: AuditListFilter = {}): Promise<AuditEvent[]> {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new VigilError('VIGIL_VALIDATION', `limit must be an integer from 1 to ${String(MAX_LIST_LIMIT)}`, { details: { field: 'limit' } });
    }
    if (filter.afterSeq !== undefined && !Number.isSafeInteger(filter.afterSeq)) {
      throw new VigilError('VIGIL_VALIDATION', 'afterSeq must be an integer', { details: { field: 'afterSeq' } });
    }
    const rows = await this.#repo.list({
      from: normalizeTime(filter.from, 'from'),
      to: normalizeTime(filter.to, 'to'),
      actor: filter.actor,
      action: filter.action,
      category: filter.category,
      outcome: filter.outcome,
      afterSeq: filter.afterSeq,
      order: filter.order ?? 'newest',
      limit,
    });
    return rows.map(toEvent);
  }

  /**
   * Signed JSONL of every matching event, oldest first, streamed a page at a time. Yields lines
   * without "\n": write each followed by "\n".
   */
  async *exportJsonl(filter: AuditExportFilter, signer: AuditSigner): AsyncGenerator<string> {
    const digest = createHash('sha256');
    let count = 0;
    let afterSeq: number | undefined;
    for (;;) {
      const page = await this.list({ ...filter, order: 'oldest', limit: EXPORT_PAGE, ...(afterSeq === undefined ? {} : { afterSeq }) });
      for (const e of page) {
        const line = JSON.stringify({ type: 'event', ...e });
        digest.update(`${line}\n`, 'utf8');
        count++;
        yield line;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < EXPORT_PAGE) break;
      afterSeq = last.seq;
    }
    const sha256 = digest.digest('hex');
    const signature = signer.sign(exportSignatureMessage(count, sha256)).toString('base64');
    yield JSON.stringify({ type: 'signature', keyId: signer.keyId, algorithm: 'Ed25519', sha256, signature, count });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function eventHashMatches(v: Record<string, unknown>): boolean {
  const str = (k: string): string => (typeof v[k] === 'string' ? v[k] : '');
  const seq = v['seq'];
  if (typeof seq !== 'number' || !isRecord(v['details'])) return false;
  const fields = {
    seq,
    ts: str('ts'),
    category: str('category'),
    action: str('action'),
    actor: str('actor'),
    source: str('source'),
    target: str('target'),
    outcome: str('outcome'),
    details: canonicalDetails(v['details'] as Details),
    prev_hash: str('prev_hash'),
  };
  return hashEvent(fields) === v['hash'];
}

/**
 * Verifies a signed export: every line is covered by the signature, the signature line is
 * last, and each event still hashes to its own hash. `input` is the whole text or its lines
 * (with or without their "\n").
 */
export function verifyExport(input: string | Iterable<string>, publicKeyPem: string): ExportVerification {
  const lines = typeof input === 'string' ? input.split('\n') : input;
  const digest = createHash('sha256');
  const problems: string[] = [];
  let count = 0;
  let keyId: string | null = null;
  let signed = false;
  let trailing = false;
  let lineNo = 0;
  for (const raw of lines) {
    lineNo++;
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line === '' && typeof input === 'string') {
      trailing = true;
      continue;
    }
    if (signed || trailing) {
      problems.push(`line ${String(lineNo)}: content after the signature line`);
      break;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`line ${String(lineNo)}: not JSON`);
      break;
    }
    if (!isRecord(value)) {
      problems.push(`line ${String(lineNo)}: not a JSON object`);
      break;
    }
    if (value['type'] === 'event') {
      if (!eventHashMatches(value)) problems.push(`line ${String(lineNo)}: event seq ${String(value['seq'])} does not match its hash`);
      digest.update(`${line}\n`, 'utf8');
      count++;
      continue;
    }
    if (value['type'] !== 'signature') {
      problems.push(`line ${String(lineNo)}: unknown line type`);
      break;
    }
    signed = true;
    keyId = typeof value['keyId'] === 'string' ? value['keyId'] : null;
    const sha256 = digest.digest('hex');
    if (value['algorithm'] !== 'Ed25519') problems.push('signature line: algorithm is not Ed25519');
    if (value['count'] !== count) problems.push(`signature line: count ${String(value['count'])} but ${String(count)} event lines`);
    if (value['sha256'] !== sha256) problems.push('signature line: the digest does not match the event lines');
    const sig = typeof value['signature'] === 'string' ? value['signature'] : '';
    if (!verifyEd25519(publicKeyPem, exportSignatureMessage(count, sha256), sig)) problems.push('signature line: the signature does not verify');
  }
  if (!signed) problems.push('no signature line: the export is incomplete');
  return { ok: problems.length === 0, count, keyId, problems };
}
