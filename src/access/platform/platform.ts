// The access-control platform's services, wired once (runtime and tests build it the same way).
import type { AlarmSink } from '../../alarms/types.ts';
import type { AuditSink } from '../../audit/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { Store } from '../../store/database.ts';
import { CredentialSetPublisher, type CredentialSetSink, type PublishResult } from './credential-set-publisher.ts';
import { CardholderImport } from './csv-import.ts';
import { DoorService } from './door-service.ts';
import { AccessEventLog } from './event-log.ts';
import { HolderService } from './holder-service.ts';
import { PinHasher, type PinKeySource } from './pin.ts';
import { SiteService } from './site-service.ts';

export interface AccessPlatform {
  sites: SiteService;
  holders: HolderService;
  doors: DoorService;
  imports: CardholderImport;
  events: AccessEventLog;
  /** Publishes the controllers' credential sets after every change (when a sink is given). */
  publisher: CredentialSetPublisher | undefined;
}

/** `keys` is the keyring: the PIN MAC key is its DEK of purpose 'access.pin'. */
/** `credentialSets`: where controllers' sets are published (the sync listener's source). */
export function createAccessPlatform(o: { store: Store; keys: PinKeySource; audit: AuditSink; alarms: AlarmSink; clock: Clock; credentialSets?: CredentialSetSink; onPublished?: (results: PublishResult[]) => void; edgePinIterations?: number }): AccessPlatform {
  const events = new AccessEventLog(o.store);
  const pins = new PinHasher(o.keys, o.edgePinIterations);
  const publisher = o.credentialSets === undefined ? undefined : new CredentialSetPublisher({ store: o.store, sink: o.credentialSets, alarms: o.alarms, pins, ...(o.onPublished === undefined ? {} : { onPublished: o.onPublished }) });
  const changed = (): void => publisher?.changed();
  const holders = new HolderService({ store: o.store, pins, audit: o.audit, clock: o.clock, changed });
  return {
    publisher,
    sites: new SiteService({ store: o.store, audit: o.audit, alarms: o.alarms, clock: o.clock, events, changed }),
    holders,
    doors: new DoorService({ store: o.store, events, pins, alarms: o.alarms, clock: o.clock }),
    imports: new CardholderImport({ holders, audit: o.audit }),
    events,
  };
}
