// What every check is given: the one target, the operator's options and what earlier checks
// found out (open ports, how to reach the web interface). Checks never reach other addresses.
import type { WebEndpoint } from './http-probe.ts';
import type { Credentials, Declaration, Profile, ProgressSink } from './types.ts';

export interface AssessContext {
  /** The resolved address: every probe goes here and nowhere else. */
  host: string;
  port: number;
  profile: Profile;
  level: 1 | 2 | 3;
  intrusive: boolean;
  declaration: Declaration;
  declarationGiven: boolean;
  credentials: Credentials | undefined;
  caPem: string | undefined;
  /** "tcp/2024": ports of other programs on the same machine (a baseline), reported, not judged. */
  excludePorts: ReadonlySet<string>;
  useExternalTools: boolean;
  /** The management web interface, when one answered (HTTPS preferred). */
  web: WebEndpoint | undefined;
  /** How the HTTPS certificate was trusted for the application probes. */
  trustNote: string;
  isVigil: boolean;
  /** Filled by the ports check; undefined when it did not run. */
  openTcp: number[] | undefined;
  openUdp: number[] | undefined;
  checkTimeoutMs: number;
  signal: AbortSignal;
  progress: ProgressSink;
  /** Notes of the running check (tool fallbacks); reset per check. */
  notes: string[];
}
