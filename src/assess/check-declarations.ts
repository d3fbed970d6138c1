// declarations: the hardware (H) and documentation (D) clauses a network scan cannot settle, and
// the software clauses whose test needs the device itself (vendor-evidence.ts). With the vendor's
// statement on file each is "declared", quoting it and the evidence attached; without one it is
// "manual" with the evidence a lab asks the vendor for (and blocks its level). Clauses the
// declaration marks not applicable say why.
import { CATALOGUE } from './catalogue.ts';
import { standardsFor } from './levels.ts';
import { ON_DEVICE_CLAUSES, declarable } from './vendor-evidence.ts';
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
    if (!declarable(c)) continue;
    const statement = ctx.declaration.statements[c.id];
    const onDevice = ON_DEVICE_CLAUSES[c.id];
    const ask = onDevice !== undefined ? `on the device, ${onDevice}` : c.howTested !== '' ? c.howTested : c.kind === 'H' ? 'a hardware declaration with photographs' : 'the document itself';
    const what = onDevice !== undefined ? 'on-device test' : c.kind === 'H' ? 'hardware' : 'documentation';
    findings.push({
      id: `declarations.${c.id}`,
      check: 'declarations',
      title: `${c.id}: ${what} — ${c.requirement}`,
      status: statement !== undefined ? 'declared' : 'manual',
      clauses: [{ id: c.id }],
      evidence: statement !== undefined ? `vendor statement (${ctx.declaration.source}): ${statement} (the lab verifies it: ${ask})` : `no statement in the declaration; the lab asks for: ${ask}`,
    });
  }
  return Promise.resolve(findings);
}
