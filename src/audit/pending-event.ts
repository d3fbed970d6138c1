// An event accepted by AuditSink.record() and waiting to be chained and stored: already bounded
// and redacted, so the queue's memory is bounded per event (ACS-5.6.1.8).
import { boundText, canonicalDetails, sanitizeDetails, type ChainedEventFields } from './canonical.ts';
import type { AuditEventInput } from './types.ts';

/** The stored fields but the chain's (seq, hashes), with the details as canonical JSON. */
export interface PendingEvent extends Omit<ChainedEventFields, 'seq' | 'prev_hash'> {
  /** Approximate memory held, for the queue's byte cap. */
  bytes: number;
}

const PER_EVENT_OVERHEAD_BYTES = 200;

export function preparePendingEvent(event: AuditEventInput, ts: string): PendingEvent {
  const pending = {
    ts,
    category: boundText(event.category),
    action: boundText(event.action),
    actor: boundText(event.actor),
    source: boundText(event.source),
    target: boundText(event.target),
    outcome: boundText(event.outcome),
    details: canonicalDetails(sanitizeDetails(event.details)),
    bytes: 0,
  };
  const chars =
    pending.ts.length + pending.category.length + pending.action.length + pending.actor.length + pending.source.length +
    pending.target.length + pending.outcome.length + pending.details.length;
  pending.bytes = PER_EVENT_OVERHEAD_BYTES + 2 * chars;
  return pending;
}
