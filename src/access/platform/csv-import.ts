// Bulk import of cardholders with one credential each from CSV, with a per-row report. Bounded
// (ACS-5.4.1.1): total bytes, rows and line length have hard maxima; a record is one physical
// line (a quoted field cannot span lines), so nothing is buffered beyond one line. A bad row is
// reported by line number and field, never echoing a PIN, and does not stop the others.
import type { AuditSink } from '../../audit/types.ts';
import { VigilError } from '../../core/errors.ts';
import type { RequestContext } from '../../identity/types.ts';
import type { HolderService } from './holder-service.ts';
import { auditChange } from './validation.ts';

export const IMPORT_MAX_BYTES = 2 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 5000;
export const IMPORT_MAX_LINE = 1024;
export const IMPORT_COLUMNS = ['name', 'card_format', 'card_number', 'pin', 'valid_from', 'valid_until', 'levels'] as const;
const REQUIRED = ['name'] as const;

export interface ImportRowResult {
  line: number;
  ok: boolean;
  cardholderId?: string;
  credentialId?: string;
  error?: string;
}

export interface ImportReport {
  imported: number;
  failed: number;
  rows: ImportRowResult[];
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  out.push(field);
  return out;
}

function time(field: string, text: string): number | null {
  if (text === '') return null;
  const ms = Date.parse(text);
  // ISO 8601 with a zone only: a local time would mean different instants on different servers.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(ms)) throw new Error(`${field}: ISO 8601 date-time with zone`);
  return ms;
}

/** A safe message for the report: our validation text, never the row's values. */
function reason(err: unknown): string {
  if (err instanceof VigilError && (err.code === 'VIGIL_VALIDATION' || err.code === 'VIGIL_CONFLICT')) return err.message;
  if (err instanceof Error && !(err instanceof VigilError)) return err.message;
  throw err;
}

export class CardholderImport {
  readonly #holders: HolderService;
  readonly #audit: AuditSink;

  constructor(o: { holders: HolderService; audit: AuditSink }) {
    this.#holders = o.holders;
    this.#audit = o.audit;
  }

  async run(csv: string, ctx: RequestContext): Promise<ImportReport> {
    if (Buffer.byteLength(csv, 'utf8') > IMPORT_MAX_BYTES) throw new VigilError('VIGIL_ACCESS_IMPORT_TOO_LARGE', `import is larger than ${IMPORT_MAX_BYTES} bytes`);
    const lines = csv.split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length - 1 > IMPORT_MAX_ROWS) throw new VigilError('VIGIL_ACCESS_IMPORT_TOO_LARGE', `import has more than ${IMPORT_MAX_ROWS} rows`);
    const header = this.#header(lines[0] ?? '');
    const levelIdsByName = new Map((await this.#holders.listLevels()).map((l) => [l.name, l.id]));
    const seenCards = new Set<string>();
    const report: ImportReport = { imported: 0, failed: 0, rows: [] };
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line.trim() === '') continue;
      const result = await this.#row(i + 1, line, header, levelIdsByName, seenCards);
      report.rows.push(result);
      if (result.ok) report.imported++;
      else report.failed++;
    }
    auditChange(this.#audit, ctx, 'access.import', 'cardholders', { imported: report.imported, failed: report.failed });
    if (report.imported > 0) this.#holders.changed();
    for (const r of report.rows) {
      if (r.ok && r.cardholderId !== undefined) auditChange(this.#audit, ctx, 'access.cardholder.create', `cardholder:${r.cardholderId}`, { via: 'import', line: r.line, credential: r.credentialId ?? null });
    }
    return report;
  }

  #header(line: string): Map<string, number> {
    if (line.length > IMPORT_MAX_LINE) throw new VigilError('VIGIL_VALIDATION', 'header line too long');
    const names = splitCsvLine(line.replace(/^\uFEFF/, '')).map((n) => n.trim().toLowerCase());
    const index = new Map<string, number>();
    names.forEach((n, i) => {
      if (!(IMPORT_COLUMNS as readonly string[]).includes(n)) throw new VigilError('VIGIL_VALIDATION', `unknown column ${n.slice(0, 40)}; columns are ${IMPORT_COLUMNS.join(',')}`);
      if (index.has(n)) throw new VigilError('VIGIL_VALIDATION', `column ${n} given twice`);
      index.set(n, i);
    });
    for (const r of REQUIRED) if (!index.has(r)) throw new VigilError('VIGIL_VALIDATION', `column ${r} is required`);
    return index;
  }

  async #row(lineNo: number, line: string, header: Map<string, number>, levels: Map<string, string>, seenCards: Set<string>): Promise<ImportRowResult> {
    try {
      if (line.length > IMPORT_MAX_LINE) throw new Error(`line longer than ${IMPORT_MAX_LINE} characters`);
      const fields = splitCsvLine(line);
      if (fields.length !== header.size) throw new Error(`expected ${header.size} fields, got ${fields.length}`);
      const get = (c: (typeof IMPORT_COLUMNS)[number]): string => {
        const i = header.get(c);
        return i === undefined ? '' : (fields[i] ?? '').trim();
      };
      const levelIds = get('levels') === '' ? [] : get('levels').split(';').map((n) => {
        const id = levels.get(n.trim());
        if (id === undefined) throw new Error(`levels: no access level named ${n.trim().slice(0, 100)}`);
        return id;
      });
      const validFrom = time('valid_from', get('valid_from'));
      const validUntil = time('valid_until', get('valid_until'));
      const holder = await this.#holders.newCardholderRow({ name: get('name'), validFrom, validUntil });
      let credential = null;
      if (get('card_number') !== '' || get('card_format') !== '') {
        const key = `${get('card_format')}:${get('card_number')}`;
        if (seenCards.has(key)) throw new Error('card_number: given twice in this file');
        credential = await this.#holders.newCredentialRow({ cardholderId: holder.id, cardFormat: get('card_format') as 'raw', cardNumber: get('card_number'), pin: get('pin') === '' ? null : get('pin') });
        seenCards.add(key);
      } else if (get('pin') !== '') throw new Error('pin: a PIN needs a card');
      await this.#holders.repo.insertCardholderWithCredential(holder, credential, [...new Set(levelIds)]);
      return credential === null ? { line: lineNo, ok: true, cardholderId: holder.id } : { line: lineNo, ok: true, cardholderId: holder.id, credentialId: credential.id };
    } catch (err) {
      return { line: lineNo, ok: false, error: reason(err) };
    }
  }
}
