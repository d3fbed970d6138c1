// declarations: the hardware (H) and documentation (D) clauses a network scan cannot settle.
// Each is listed as "manual" with the evidence a lab asks the vendor for, quoting the vendor's
// statement when the declaration has one; clauses the declaration marks not applicable say why.
import { CATALOGUE } from './catalogue.ts';
import { standardsFor } from './levels.ts';
import type { AssessContext } from './context.ts';
import type { Finding } from './types.ts';

export function runDeclarationsCheck(ctx: AssessContext): Promise<Finding[]> {
  const standards = standardsFor(ctx.profile);
  const findings: Finding[] = [];
  for (const c of CATALOGUE) {
    if (!standards.includes(c.standard)) continue;
    const na = ctx.declaration.notApplicable[c.id];
    if (na !== undefined) {
      findings.push({ id: `declarations.${c.id}`, check: 'declarations', title: `${c.id}: not applicable (declared)`, status: 'not-applicable', clauses: [{ id: c.id }], evidence: `declaration (${ctx.declaration.source}): ${na}` });
      continue;
    }
    if (c.kind !== 'H' && c.kind !== 'D') continue;
    const statement = ctx.declaration.statements[c.id];
    const ask = c.howTested !== '' ? c.howTested : c.kind === 'H' ? 'a hardware declaration with photographs' : 'the document itself';
    findings.push({
      id: `declarations.${c.id}`,
      check: 'declarations',
      title: `${c.id}: ${c.kind === 'H' ? 'hardware' : 'documentation'} — ${c.requirement}`,
      status: 'manual',
      clauses: [{ id: c.id }],
      evidence: statement !== undefined ? `vendor statement: ${statement} (the lab verifies it: ${ask})` : `no statement in the declaration; the lab asks for: ${ask}`,
    });
  }
  return Promise.resolve(findings);
}
