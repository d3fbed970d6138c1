// The vendor documents in docs/ are generated from code (configuration schema, declared network
// services, roles matrix): the committed copies must be exactly what the code generates, so the
// documentation a lab reads is the behaviour it tests (NVR-5.2.2.1a, NVR-5.4.3.1a, ACS-5.2.2.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, configurationMarkdown, networkServicesMarkdown, rolesMarkdown } from '../src/docs/generate.ts';
import { describeConfig } from '../src/core/config.ts';

const docs: Array<[string, () => string]> = [
  ['docs/configuration.md', configurationMarkdown],
  ['docs/generated/network-services.md', networkServicesMarkdown],
  ['docs/generated/roles.md', rolesMarkdown],
];

for (const [file, generate] of docs) {
  test(`${file} is up to date with the code (run \`bin/vigil docs\` after changing it)`, () => {
    assert.equal(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'), generate());
  });
}

test('every configuration option is documented with a description and its default', () => {
  const text = configurationMarkdown();
  const options = describeConfig();
  assert.ok(options.length > 20);
  for (const o of options) {
    assert.ok(o.description.length > 10, `${o.path} has a description`);
    assert.ok(text.includes(`\`${o.path}\``), `${o.path} is in docs/configuration.md`);
  }
});

test('the SBOM is CycloneDX and lists the runtime dependencies with exact versions', () => {
  const sbom = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'docs/generated/sbom.cdx.json'), 'utf8')) as { bomFormat: string; components: Array<{ name: string; version: string }> };
  assert.equal(sbom.bomFormat, 'CycloneDX');
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const [name, version] of Object.entries(pkg.dependencies)) {
    const short = name.includes('/') ? name.split('/')[1] : name;
    assert.ok(sbom.components.some((c) => c.name === short && c.version === version), `${name}@${version} in the SBOM`);
  }
});
