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
  /** RTSP(S) ports named by the operator (--rtsp-ports), probed besides declared and discovered ones. */
  rtspPorts: number[];
  /** Stream paths to DESCRIBE (--rtsp-path); empty: a list of common camera paths. */
  rtspPaths: string[];
  /** Cases per RTSP port of the intrusive fuzz campaign, and its seed. */
  fuzzCases: number;
  fuzzSeed: number;
  /** Files the lab analyses offline: the update package, the SBOM, an advisory list. */
  updatePackage: string | undefined;
  sbomFile: string | undefined;
  advisoriesFile: string | undefined;
  /** Bound of the signal-loss probe's wait for its alarm, in seconds. */
  alarmWaitSeconds: number;
  /** Longest idle timeout the sessions probe waits out, in seconds. */
  idleWaitMaxSeconds: number;
  /** Notes of the running check (tool fallbacks); reset per check. */
  notes: string[];
}
