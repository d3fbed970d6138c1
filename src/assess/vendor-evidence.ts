// The clauses a lab settles with the vendor rather than over the network: hardware (H) and
// documentation (D) clauses, and the software clauses whose test needs the device itself (its
// disks, its console, its cables). Only these can be "declared"; every other S clause must pass a
// check. For a Vigil target the vendor's statements are built in and each names the documents a
// lab would ask for; a document is attached only when it is present (with its SHA-256), so a
// statement whose evidence is missing is not a declaration.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRODUCT } from '../core/product.ts';
import type { CatalogueClause } from './catalogue.ts';

/** S clauses whose lab test needs local or physical access → what the lab does on the device. */
export const ON_DEVICE_CLAUSES: Readonly<Record<string, string>> = {
  'NVR-5.1.2.1b': 'copy a recording volume to another machine and show no video is readable',
  'NVR-5.1.2.1c': 'plug and unplug a network cable and a USB device, then read the audit events',
  'NVR-5.1.3.2b': 'run the factory reset on the device and show it returns to first-run setup, never a known password',
  'NVR-5.1.4.1a': 'tamper with a release file on the device and show it is not started',
  'NVR-5.1.5.1a': 'configure several internal volumes and back up to a second one',
  'NVR-5.1.5.1b': 'back up to a removable medium',
  'NVR-5.1.5.1c': 'run a manual and a scheduled backup and restore from both',
  'NVR-5.1.5.2a': 'remove one mirror volume while recording and show no recording is lost',
  'NVR-5.1.5.2b': 'fail a mirror volume and show the hot spare takes over and is filled',
  'NVR-5.2.4.1a': 'inspect the database and the files at rest for plaintext authenticators, keys and personal data',
  'NVR-5.2.4.2a': 'configure the PKCS#11 token and show the key-encryption key never leaves it',
  'NVR-5.2.7.1b': 'edit an event in the database file and show verification names it',
  'NVR-5.2.7.1c': 'review the retention setting and the capacity check',
  'NVR-5.2.7.2a': 'make the security log unwritable and show the alarm',
  'NVR-5.2.8.1a': 'fill a recording volume below the threshold and show the warning',
  'NVR-5.2.8.1b': 'flip a byte in a stored recording and show the tamper alarm naming it',
  'NVR-5.2.9.1a': 'back up the video and restore it on another device',
  'NVR-5.2.9.2a': 'show the backup is unreadable without its key',
  'NVR-5.2.9.3a': 'back up to an off-site store (object storage, SFTP) and restore',
  'NVR-5.5.2.2a': 'tamper with an application file and show the product refuses to start it',
  'NVR-5.4.3.1b': 'change the idle timeout in the device configuration and show the new value applies',
};

/**
 * On-device clauses that also have a part testable over the network: the declaration counts only
 * when that part's finding passed in the same assessment (a statement never replaces a probe).
 */
export const NETWORK_PART: Readonly<Record<string, string>> = {
  'NVR-5.2.7.1b': 'audit.integrity',
  'NVR-5.2.7.1c': 'audit.capacity',
  'NVR-5.4.3.1b': 'sessions.idle-timeout',
};

/** Whether a vendor statement may stand in for a test of this clause. */
export function declarable(c: Pick<CatalogueClause, 'id' | 'kind'>): boolean {
  return c.kind === 'H' || c.kind === 'D' || ON_DEVICE_CLAUSES[c.id] !== undefined;
}

/** A document of Vigil's, optionally one section (a Markdown heading) of it. */
export interface DocumentRef {
  file: string;
  section?: string;
}

/**
 * Vigil's statements: only for what Vigil implements and documents. Clauses left out (hardware,
 * off-site backup, secure boot, tampered-application refusal) stay manual and block their level.
 */
export const VIGIL_STATEMENTS: Readonly<Record<string, { statement: string; documents: DocumentRef[] }>> = {
  'NVR-5.1.2.1b': {
    statement: 'segments are sealed per segment (AES-256-GCM) under keys wrapped by a device-bound KEK kept outside the data directory; a copied volume shows no video',
    documents: [{ file: 'docs/architecture.md', section: 'Video path' }, { file: 'docs/configuration.md' }],
  },
  'NVR-5.1.2.1c': { statement: 'network link and USB plug/unplug are read from sysfs and audited (hardware.*)', documents: [{ file: 'docs/architecture.md', section: 'Device hygiene' }] },
  'NVR-5.1.3.2b': { statement: '`vigil factory-reset` destroys the KEK first and returns to first-run setup with a new setup token', documents: [{ file: 'docs/architecture.md', section: 'Device hygiene' }] },
  'NVR-5.1.5.1a': { statement: 'several recording volumes and a backup directory on a second internal disk', documents: [{ file: 'docs/configuration.md' }, { file: 'src/backup/directory-target.ts' }] },
  'NVR-5.1.5.1b': { statement: 'backup to a removable medium mount point; an unmounted medium is refused', documents: [{ file: 'docs/configuration.md' }, { file: 'src/backup/directory-target.ts' }] },
  'NVR-5.1.5.1c': { statement: 'manual backup (`vigil backup`) and scheduled automatic backup (backup.schedule.*)', documents: [{ file: 'docs/configuration.md' }, { file: 'src/backup/backup.test.ts' }] },
  'NVR-5.1.5.2a': { statement: 'every segment is written to each mirror volume (video.mirrorCopies)', documents: [{ file: 'docs/architecture.md', section: 'Video path' }, { file: 'docs/configuration.md' }] },
  'NVR-5.1.5.2b': { statement: 'a hot spare joins the open segments and receives a copy of every finished segment', documents: [{ file: 'docs/architecture.md', section: 'Video path' }] },
  'NVR-5.2.4.1a': { statement: 'passwords PBKDF2-HMAC-SHA256 (600,000 iterations), camera credentials and video sealed by the keyring (AES-256-GCM)', documents: [{ file: 'docs/configuration.md' }, { file: 'docs/architecture.md', section: 'Video path' }] },
  'NVR-5.2.4.2a': { statement: 'the key-encryption key can live in a PKCS#11 token (keyring.kek=pkcs11)', documents: [{ file: 'docs/configuration.md' }] },
  'NVR-5.2.7.1b': { statement: 'the security log is hash-chained with signed checkpoints; verification names an edited event', documents: [{ file: 'docs/architecture.md', section: 'Components (src/)' }, { file: 'src/audit/audit-log.test.ts' }] },
  'NVR-5.2.7.1c': { statement: 'retention audit.retentionMonths (3–120) and a configured capacity alarmed at 90 %', documents: [{ file: 'docs/configuration.md' }] },
  'NVR-5.2.7.2a': { statement: 'a failed security-log write keeps the batch queued and raises an alarm', documents: [{ file: 'src/audit/audit-log.ts' }, { file: 'src/audit/audit-failure.test.ts' }] },
  'NVR-5.2.8.1a': { statement: 'free space below video.freeSpaceWarnPercent raises a warning alarm', documents: [{ file: 'docs/configuration.md' }] },
  'NVR-5.2.8.1b': { statement: 'each finished segment is hashed, chained and signed; read, on-demand and periodic verification raise video.tamper naming the segment', documents: [{ file: 'docs/architecture.md', section: 'Video path' }, { file: 'docs/configuration.md' }] },
  'NVR-5.2.9.1a': { statement: 'full backup of the video and restore (`vigil backup`, `vigil restore`)', documents: [{ file: 'src/backup/backup.test.ts' }] },
  'NVR-5.2.9.2a': { statement: 'backups are sealed (AES-256-GCM) for the device and a recovery passphrase', documents: [{ file: 'src/backup/backup.test.ts' }, { file: 'docs/configuration.md' }] },
  'NVR-5.4.3.1b': { statement: 'the idle timeout is security.sessionIdleMinutes (1–30, default 15)', documents: [{ file: 'docs/configuration.md' }] },
  'NVR-5.5.1.1a': { statement: 'the CycloneDX SBOM ships with every release', documents: [{ file: 'docs/generated/sbom.cdx.json' }] },
  'NVR-5.5.2.1a': { statement: 'SECURITY.md gives the reporting channel and the response times', documents: [{ file: 'SECURITY.md', section: 'Reporting a vulnerability' }] },
};

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAX_DOC_BYTES = 16 * 1024 * 1024;

/**
 * The documents attached as evidence: each must exist in this installation (and hold the named
 * section); undefined when one is missing, so the statement does not count as a declaration.
 */
export function attachDocuments(refs: readonly DocumentRef[], root: string = REPO_ROOT): string | undefined {
  const parts: string[] = [];
  for (const ref of refs) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path.join(root, ref.file));
    } catch {
      return undefined;
    }
    if (bytes.length > MAX_DOC_BYTES) return undefined;
    if (ref.section !== undefined) {
      const heading = `\n## ${ref.section}\n`;
      if (!`\n${bytes.toString('utf8')}`.includes(heading)) return undefined;
    }
    const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    parts.push(`${ref.file}${ref.section === undefined ? '' : ` § ${ref.section}`} (sha256 ${sha}…)`);
  }
  return parts.join(', ');
}

/** Vigil's statements with their documents attached; those whose evidence is missing are left out. */
export function vigilStatements(root?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, s] of Object.entries(VIGIL_STATEMENTS)) {
    const attached = attachDocuments(s.documents, root);
    if (attached !== undefined) out[id] = `${s.statement}; attached: ${attached} (documents of this installation, ${PRODUCT.name} ${PRODUCT.version}: the lab confirms the target runs the same version)`;
  }
  return out;
}
