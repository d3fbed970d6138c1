// The report as one self-contained HTML page: inline CSS, no script, no external resource.
// Evidence quotes the target, so every string goes through escapeHtml; the page also carries a
// CSP that forbids script, should an escape ever be missed.
import type { AssessReport } from './report.ts';
import { STATUSES, type Status } from './types.ts';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLOURS: Record<Status, string> = {
  pass: '#2e7d32',
  fail: '#c62828',
  declared: '#1565c0',
  manual: '#8d6e00',
  'not-applicable': '#607d8b',
  'not-implemented': '#6a1b9a',
};

function badge(status: Status): string {
  return `<span class="b" style="background:${COLOURS[status]}">${escapeHtml(status)}</span>`;
}

function bar(counts: Record<Status, number>): string {
  const total = STATUSES.reduce((n, s) => n + counts[s], 0);
  if (total === 0) return '<div class="bar"></div>';
  const parts = STATUSES.filter((s) => counts[s] > 0).map((s) => `<span title="${escapeHtml(`${s}: ${counts[s]}`)}" style="width:${((counts[s] / total) * 100).toFixed(2)}%;background:${COLOURS[s]}"></span>`);
  return `<div class="bar">${parts.join('')}</div>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1b1b;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f4f4f4}
.b{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}
.bar{display:flex;height:14px;width:100%;background:#eee;border-radius:3px;overflow:hidden}.bar span{display:block;height:100%}
.lvl{font-size:1.3em;font-weight:600}.ev{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;word-break:break-word}
.legend span{margin-right:1em}.summary td:first-child{width:14em}`;

export function renderHtml(r: AssessReport): string {
  const levelRows = r.levels
    .map((l) => {
      const next = l.blockers.find((b) => b.clauses.length > 0);
      return `<tr><td>${escapeHtml(l.standard)} — ${escapeHtml(l.name)}</td><td class="lvl">${escapeHtml(l.reached)} / ${escapeHtml(l.requested)}</td><td class="lvl">${escapeHtml(l.softwareReached)}</td><td>${
        next === undefined ? 'all levels reached' : `level ${escapeHtml(next.level)} blocked by ${escapeHtml(next.clauses.length)} clause(s): ${next.clauses.map((c) => `${escapeHtml(c.id)} (${escapeHtml(c.status)})`).join(', ')}`
      }</td></tr>`;
    })
    .join('');
  const areas = r.summary.byArea.map((a) => `<tr><td>${escapeHtml(a.area)}</td><td>${bar(a.counts)}</td><td>${STATUSES.filter((s) => a.counts[s] > 0).map((s) => `${escapeHtml(s)} ${a.counts[s]}`).join(', ')}</td></tr>`).join('');
  const checks = r.checks.map((c) => `<tr><td>${escapeHtml(c.id)}</td><td>${badge(c.status)}</td><td>${escapeHtml(c.title)}</td><td>${(c.durationMs / 1000).toFixed(1)} s</td><td class="ev">${escapeHtml(c.notes.join('\n'))}</td></tr>`).join('');
  const order: Status[] = ['fail', 'manual', 'not-implemented', 'declared', 'pass', 'not-applicable'];
  const findings = [...r.findings]
    .filter((f) => f.check !== 'declarations')
    .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
    .map(
      (f) =>
        `<tr><td>${badge(f.status)}${f.severity === undefined ? '' : `<br>${escapeHtml(f.severity)}`}</td><td><b>${escapeHtml(f.title)}</b><br><small>${escapeHtml(f.id)} — ${f.clauses.map((c) => escapeHtml(c.partial === undefined ? c.id : `${c.id} (partial)`)).join(', ')}</small></td><td class="ev">${escapeHtml(f.evidence)}</td><td>${escapeHtml(f.fix ?? '')}</td></tr>`,
    )
    .join('');
  const clauses = r.clauses.map((c) => `<tr><td>${escapeHtml(c.id)}</td><td>${escapeHtml(c.level)}</td><td>${escapeHtml(c.kind)}</td><td>${badge(c.status)}${c.blocksLevel === null ? '' : `<br><small>blocks L${escapeHtml(c.blocksLevel)}</small>`}</td><td>${escapeHtml(c.requirement)}</td><td class="ev">${escapeHtml(c.note)}</td></tr>`).join('');
  const legend = STATUSES.map((s) => `<span>${badge(s)}</span>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil assessment of ${escapeHtml(r.target.host)}:${escapeHtml(r.target.port)}</title>
<style>${CSS}</style></head><body>
<h1>Security assessment: ${escapeHtml(r.target.host)}:${escapeHtml(r.target.port)} (${escapeHtml(r.target.profile)})</h1>
<p>${escapeHtml(r.tool.name)} ${escapeHtml(r.tool.version)} — ${escapeHtml(r.generatedAt)} — ${(r.durationMs / 1000).toFixed(1)} s — report schema ${escapeHtml(r.kind)} v${escapeHtml(r.version)}${r.options.intrusive ? ' — intrusive probes on' : ' — safe mode (no lockout probe)'}</p>
<h2 id="summary">Summary</h2>
<p>Requested level ${escapeHtml(r.options.level)}: <b>${r.requestedLevelReached ? 'reached' : 'not reached'}</b>. ${escapeHtml(r.levelRule)}</p>
<table class="summary"><tr><th>Standard</th><th>Level reached / requested</th><th>Software and documentation clauses</th><th>What blocks the next level</th></tr>${levelRows}</table>
<h3>Clauses by area</h3><p class="legend">${legend}</p>
<table><tr><th>Area</th><th style="width:50%">Clauses</th><th>Counts</th></tr>${areas}</table>
<table class="summary" style="margin-top:1em"><tr><td>Target</td><td>${escapeHtml(r.target.web ?? 'no web interface')} — trust: ${escapeHtml(r.target.trust)}</td></tr>
<tr><td>Declaration</td><td>${escapeHtml(r.target.declaration)}</td></tr></table>
<h2>Checks</h2><table><tr><th>Check</th><th>Status</th><th>What</th><th>Time</th><th>Notes</th></tr>${checks}</table>
<h2>Findings</h2><table><tr><th>Status</th><th>Finding / clauses</th><th>Evidence</th><th>Fix</th></tr>${findings}</table>
<h2>Clauses</h2><table><tr><th>ID</th><th>L</th><th>Kind</th><th>Status</th><th>Requirement</th><th>Why</th></tr>${clauses}</table>
</body></html>
`;
}
