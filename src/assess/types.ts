// The vocabulary of an assessment: what a check reports, per finding and per clause.
// Statuses are deliberately six: a clause nobody has automated yet is "not-implemented", never
// "pass" (an honest report blocks a level rather than claim it); "declared" is a clause only the
// vendor can show (hardware, documents, on-device tests) for which the vendor's statement and the
// evidence the lab asks for are on file — the lab still verifies it, and it never reads as a pass.

export const STATUSES = ['pass', 'fail', 'not-applicable', 'declared', 'manual', 'not-implemented'] as const;
export type Status = (typeof STATUSES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CHECK_IDS = ['ports', 'tls', 'services', 'transport', 'credentials', 'sessions', 'web', 'rtsp', 'onvif', 'alarms', 'accounts', 'discovery', 'audit', 'update-package', 'sbom', 'declarations'] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const PROFILES = ['nvr', 'camera', 'acs-platform', 'acs-controller', 'lock'] as const;
export type Profile = (typeof PROFILES)[number];

/** How far one finding covers a clause: "partial" names the part a lab must still do by hand. */
export interface ClauseRef {
  id: string;
  partial?: string;
}

export interface Finding {
  /** Stable within a check, e.g. "tls.protocol.TLSv1". */
  id: string;
  check: CheckId;
  title: string;
  status: Status;
  clauses: ClauseRef[];
  /** What was observed; may quote the target (untrusted text: every renderer escapes it). */
  evidence: string;
  severity?: Severity;
  fix?: string;
}

export interface CheckOutcome {
  id: CheckId;
  title: string;
  status: Status;
  durationMs: number;
  findings: Finding[];
  /** Tools used or missing (nmap, sslscan) and how the check fell back. */
  notes: string[];
}

export interface Credentials {
  username: string;
  password: string;
  /** A sacrificial account for the lockout probe; without it the main account is locked last. */
  lockout?: { username: string; password: string };
  /**
   * An administrator's API token (Vigil: `vgl_…`, sent as a Bearer token) for the authenticated
   * probes through the target's own API (alarms, audit); never written to a report or a log.
   */
  apiToken?: string;
}

export interface DeclaredPort {
  protocol: 'tcp' | 'udp';
  port: number;
  id: string;
}

export interface Declaration {
  /** Where it came from: a file, the target's API, or Vigil's built-in table. */
  source: string;
  services: DeclaredPort[];
  /** Clause ID → why it does not apply (e.g. no Wi-Fi). */
  notApplicable: Record<string, string>;
  /** Clause ID → the vendor's statement for H/D clauses. */
  statements: Record<string, string>;
  /** Paths of the web interface to probe for reflected input (may carry a query). */
  webPaths: string[];
  /** Paths that must refuse unauthenticated requests. */
  protectedPaths: string[];
}

export type ProgressSink = (line: string) => void;
