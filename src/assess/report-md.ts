// The report in Markdown, for a merge request or a ticket. Target text is untrusted: table cells
// are escaped so evidence cannot break the table or inject markup.
import type { AssessReport } from './report.ts';
import { STATUSES } from './types.ts';

export function escapeMd(value: unknown): string {
  return String(value).replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function renderMarkdown(r: AssessReport): string {
  const lines: string[] = [];
  lines.push(`# Security assessment: ${escapeMd(`${r.target.host}:${r.target.port}`)} (${escapeMd(r.target.profile)})`, '');
  lines.push(`${escapeMd(r.tool.name)} ${escapeMd(r.tool.version)}, ${escapeMd(r.generatedAt)}, ${(r.durationMs / 1000).toFixed(1)} s, ${r.options.intrusive ? 'intrusive probes on' : 'safe mode'}; report ${escapeMd(r.kind)} v${r.version}.`, '');
  lines.push('## Summary', '', `Requested level ${r.options.level}: **${r.requestedLevelReached ? 'reached' : 'not reached'}**.`, '', escapeMd(r.levelRule), '');
  lines.push('| Standard | Reached / requested | Software and documentation clauses | Next level blocked by |', '|---|---|---|---|');
  for (const l of r.levels) {
    const next = l.blockers.find((b) => b.clauses.length > 0);
    lines.push(`| ${escapeMd(l.standard)} — ${escapeMd(l.name)} | ${l.reached} / ${l.requested} | ${l.softwareReached} | ${next === undefined ? 'nothing' : `L${next.level}: ${next.clauses.map((c) => `${escapeMd(c.id)} (${c.status})`).join(', ')}`} |`);
  }
  lines.push('', '| Area | ' + STATUSES.join(' | ') + ' |', '|---|' + STATUSES.map(() => '---').join('|') + '|');
  for (const a of r.summary.byArea) lines.push(`| ${escapeMd(a.area)} | ${STATUSES.map((s) => a.counts[s]).join(' | ')} |`);
  lines.push('', `Target: ${escapeMd(r.target.web ?? 'no web interface')} (trust: ${escapeMd(r.target.trust)}); declaration: ${escapeMd(r.target.declaration)}.`, '');
  lines.push('## Checks', '', '| Check | Status | Time | Notes |', '|---|---|---|---|');
  for (const c of r.checks) lines.push(`| ${c.id} | ${c.status} | ${(c.durationMs / 1000).toFixed(1)} s | ${escapeMd(c.notes.join('; '))} |`);
  lines.push('', '## Findings', '', '| Status | Severity | Finding | Clauses | Evidence | Fix |', '|---|---|---|---|---|---|');
  for (const f of r.findings.filter((x) => x.check !== 'declarations')) {
    lines.push(`| ${f.status} | ${f.severity ?? ''} | ${escapeMd(f.title)} (${escapeMd(f.id)}) | ${f.clauses.map((c) => escapeMd(c.partial === undefined ? c.id : `${c.id} (partial)`)).join(', ')} | ${escapeMd(f.evidence)} | ${escapeMd(f.fix ?? '')} |`);
  }
  lines.push('', '## Clauses', '', '| ID | Level | Kind | Status | Why |', '|---|---|---|---|---|');
  for (const c of r.clauses) lines.push(`| ${escapeMd(c.id)} | ${escapeMd(c.level)} | ${escapeMd(c.kind)} | ${c.status}${c.blocksLevel === null ? '' : ` (blocks L${c.blocksLevel})`} | ${escapeMd(c.note)} |`);
  return `${lines.join('\n')}\n`;
}
