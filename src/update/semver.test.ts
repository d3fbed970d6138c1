import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, isVersion, maxVersion, parseVersion } from './semver.ts';

describe('update versions (ACS-5.5.1.3 anti-rollback compares these)', () => {
  test('orders numerically, not as text', () => {
    assert.ok(compareVersions('1.10.0', '1.9.9') > 0);
    assert.ok(compareVersions('2.0.0', '10.0.0') < 0);
    assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
    assert.equal(maxVersion('1.2.3', undefined, '1.10.0', '1.9.0'), '1.10.0');
    assert.equal(maxVersion(undefined), undefined);
  });
  test('refuses pre-release, build suffixes, leading zeros and huge parts', () => {
    for (const bad of ['1.2', '1.2.3-rc1', '1.2.3+b', '01.2.3', '1.2.3.4', 'v1.2.3', '1234567890.0.0', '', ' 1.2.3']) {
      assert.equal(isVersion(bad), false, bad);
      assert.throws(() => parseVersion(bad), { code: 'VIGIL_VALIDATION' });
    }
    assert.deepEqual(parseVersion('0.10.999999999'), { major: 0, minor: 10, patch: 999999999 });
  });
});
