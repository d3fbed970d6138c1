// The access event log (ACS-5.6.1.1): every decision and door event stored with an event ID,
// ISO 8601 time (ACS-5.6.1.5), source, category, type and outcome; never a PIN (ACS-5.6.1.8).
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/database.ts';
import { AccessEventRepository, type AccessEventRow, type EventFilter } from './event-repository.ts';
import type { AccessEventDraft } from './types.ts';

export interface AccessEvent extends Omit<AccessEventDraft, 'details'> {
  id: string;
  details: Record<string, string | number | boolean | null>;
}

function view(row: AccessEventRow): AccessEvent {
  return {
    id: row.id,
    ts: row.ts,
    category: row.category as AccessEvent['category'],
    type: row.type,
    outcome: row.outcome as AccessEvent['outcome'],
    reason: row.reason,
    source: row.source,
    siteId: row.site_id,
    doorId: row.door_id,
    cardholderId: row.cardholder_id,
    credentialId: row.credential_id,
    details: JSON.parse(row.details) as AccessEvent['details'],
  };
}

export class AccessEventLog {
  readonly repo: AccessEventRepository;

  constructor(store: Store) {
    this.repo = new AccessEventRepository(store.db);
  }

  async append(draft: AccessEventDraft): Promise<AccessEvent> {
    const row: AccessEventRow = {
      id: randomUUID(),
      ts: draft.ts,
      at: Date.parse(draft.ts),
      category: draft.category,
      type: draft.type,
      outcome: draft.outcome,
      reason: draft.reason,
      source: draft.source,
      site_id: draft.siteId,
      door_id: draft.doorId,
      cardholder_id: draft.cardholderId,
      credential_id: draft.credentialId,
      details: JSON.stringify(draft.details),
    };
    await this.repo.insert(row);
    return view(row);
  }

  async list(filter: EventFilter): Promise<AccessEvent[]> {
    return (await this.repo.list(filter)).map(view);
  }
}
