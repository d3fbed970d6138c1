// The audit log is written asynchronously (batched into the store): a test that checks events
// right after the request that caused them reads until every expected event is there, bounded.
import type { ApiClient } from './https-client.ts';

export interface AuditRow { action: string; actor: string; target: string; outcome: string; details: Record<string, unknown> }

const ATTEMPTS = 30;
const PAUSE_MS = 100;

/** The events of `query` (e.g. 'category=video&limit=500') once every predicate matches one, or after ~3 s. */
export async function auditEventsWhen(client: ApiClient, query: string, ...expected: Array<(e: AuditRow) => boolean>): Promise<AuditRow[]> {
  let events: AuditRow[] = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
    events = (await client.get<{ events: AuditRow[] }>(`/api/v1/audit/events?${query}`)).body.events;
    if (expected.every((p) => events.some(p))) break;
  }
  return events;
}
