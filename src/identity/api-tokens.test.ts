import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnEachStore } from '../../test/helpers/stores.ts';
import { DAY_MS } from './core.ts';
import { sha256Hex } from './secrets.ts';
import { ADMIN_PASSWORD, clearIdentityTables, identityFixture, requestFrom } from './testing/doubles.ts';
import { adminAndUser, firstAdmin, loginSession, totpCode, vigil } from './testing/flows.ts';

describeOnEachStore('identity API tokens', (get) => {
  beforeEach(async () => {
    await clearIdentityTables(get().store);
  });

  test('ACS-5.1.1.9: a token authenticates with its owner\'s grants; only its hash is stored', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f, { role: 'viewer', scopeKind: 'camera', scopeId: 'A' });
    const created = await f.identity.createApiToken(user.id, { name: 'nvr-exporter' }, adminCtx);
    const match = /^vgl_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/.exec(created.token);
    assert.ok(match !== null, created.token);
    const [, id, secret] = match;
    assert.ok(id !== undefined && secret !== undefined);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    const principal = await f.identity.authenticateApiToken(created.token);
    assert.equal(principal.authMethod, 'api-token');
    assert.equal(principal.userId, user.id);
    assert.equal(principal.mfaPassed, true);
    assert.deepEqual(principal.grants, [{ role: 'viewer', scopeKind: 'camera', scopeId: 'A' }]);
    const row = await get().store.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.token_hash, sha256Hex(secret));
    assert.ok(!JSON.stringify(row).includes(secret));
    const listed = await f.identity.listApiTokens(user.id);
    assert.equal(listed.length, 1);
    assert.ok(!JSON.stringify(listed).includes(row.token_hash), 'listing never shows hashes');
    assert.ok(!JSON.stringify(f.audit.events).includes(secret), 'no token in the audit log');
  });

  test('a revoked, expired, tampered or unknown token is refused; so is a token of a disabled user', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f);
    const a = await f.identity.createApiToken(user.id, { name: 'a' }, adminCtx);
    const b = await f.identity.createApiToken(user.id, { name: 'b', expiresAt: f.clock.now() + DAY_MS }, adminCtx);
    const c = await f.identity.createApiToken(user.id, { name: 'c' }, adminCtx);
    await f.identity.revokeApiToken(user.id, a.apiToken.id, adminCtx);
    await assert.rejects(f.identity.authenticateApiToken(a.token), vigil('VIGIL_AUTH_REQUIRED'));
    await f.identity.authenticateApiToken(b.token);
    f.clock.advance(DAY_MS);
    await assert.rejects(f.identity.authenticateApiToken(b.token), vigil('VIGIL_AUTH_REQUIRED'));
    const tampered = c.token.slice(0, -1) + (c.token.endsWith('A') ? 'B' : 'A');
    await assert.rejects(f.identity.authenticateApiToken(tampered, requestFrom()), vigil('VIGIL_AUTH_REQUIRED'));
    const swapped = `vgl_${a.apiToken.id}_${c.token.slice(-43)}`;
    await assert.rejects(f.identity.authenticateApiToken(swapped), vigil('VIGIL_AUTH_REQUIRED'));
    await assert.rejects(f.identity.authenticateApiToken('vgl_nonsense'), vigil('VIGIL_AUTH_REQUIRED'));
    await f.identity.authenticateApiToken(c.token);
    await f.identity.updateUser(user.id, { disabled: true }, adminCtx);
    await assert.rejects(f.identity.authenticateApiToken(c.token), vigil('VIGIL_AUTH_REQUIRED'));
    await assert.rejects(f.identity.createApiToken(user.id, { name: 'd', expiresAt: f.clock.now() - 1 }, adminCtx), vigil('VIGIL_VALIDATION'));
    assert.equal(f.audit.actions('auth.apitoken').filter((e) => e.outcome === 'failure').length, 1);
  });

  test('NVR-5.4.1.2a: an administrator cannot mint a token for themselves without MFA', async () => {
    const f = identityFixture(get().store);
    const admin = await firstAdmin(f);
    const noMfa = await loginSession(f, 'admin', ADMIN_PASSWORD);
    await assert.rejects(f.identity.createApiToken(admin.id, { name: 'mine' }, requestFrom('192.0.2.10', noMfa.principal)), vigil('VIGIL_AUTH_MFA_REQUIRED'));
    const { secret } = await f.identity.totpEnrolStart(admin.id);
    await f.identity.totpEnrolConfirm(admin.id, totpCode(secret, f.clock.now()), requestFrom('192.0.2.10', noMfa.principal));
    const withMfa = await f.identity.authenticateSession(noMfa.token, requestFrom());
    await f.identity.createApiToken(admin.id, { name: 'mine' }, requestFrom('192.0.2.10', withMfa));
  });

  test('a role change applies to an existing token at once', async () => {
    const f = identityFixture(get().store);
    const { user, adminCtx } = await adminAndUser(f, { role: 'viewer', scopeKind: 'global' });
    const { token } = await f.identity.createApiToken(user.id, { name: 't' }, adminCtx);
    await f.identity.revokeRole(user.id, { role: 'viewer', scopeKind: 'global' }, adminCtx);
    const principal = await f.identity.authenticateApiToken(token);
    assert.deepEqual(principal.grants, []);
  });
});
