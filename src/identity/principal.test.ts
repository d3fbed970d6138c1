import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAuthorized, authorize, mfaRequiredFor, passwordExpirySoon, restrictedReason } from './principal.ts';
import type { Principal } from './types.ts';
import { isVigilError } from '../core/errors.ts';
import { heldPermissions, isAllowed } from './permissions.ts';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    userId: 'u1',
    username: 'vic',
    grants: [{ role: 'viewer', scopeKind: 'camera', scopeId: 'A' }],
    authMethod: 'session',
    mfaPassed: false,
    mfaEnrolmentRequired: false,
    passwordChangeRequired: false,
    passwordExpiresInDays: 60,
    ...overrides,
  };
}

test('NVR-5.4.3.1a scope: a viewer granted camera:A may view A, not B, and not manage users', () => {
  const p = principal();
  assert.equal(authorize(p, 'camera.view', { kind: 'camera', id: 'A' }), true);
  assert.equal(authorize(p, 'camera.view', { kind: 'camera', id: 'B' }), false);
  assert.equal(authorize(p, 'users.manage'), false);
  assert.equal(authorize(p, 'camera.export', { kind: 'camera', id: 'A' }), false);
});

test('NVR-5.4.2.1c / NVR-5.4.1.2a: a restricted principal is refused everything', () => {
  const admin = principal({ grants: [{ role: 'administrator', scopeKind: 'global', scopeId: '' }] });
  assert.equal(authorize(admin, 'system.read'), true);
  const mustChange = { ...admin, passwordChangeRequired: true };
  assert.equal(restrictedReason(mustChange), 'password-change');
  assert.equal(authorize(mustChange, 'system.read'), false);
  assert.throws(() => assertAuthorized(mustChange, 'system.read'), (e: unknown) => isVigilError(e, 'VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED'));
  const mustEnrol = { ...admin, mfaEnrolmentRequired: true };
  assert.equal(restrictedReason(mustEnrol), 'mfa-enrolment');
  assert.equal(authorize(mustEnrol, 'users.read'), false);
  assert.throws(() => assertAuthorized(mustEnrol, 'users.read'), (e: unknown) => isVigilError(e, 'VIGIL_AUTH_MFA_ENROLMENT_REQUIRED'));
  assert.throws(() => assertAuthorized(principal(), 'users.read'), (e: unknown) => isVigilError(e, 'VIGIL_FORBIDDEN'));
  assert.equal(restrictedReason(admin), null);
});

test('mfaRequiredFor follows the configured roles; ACS-5.1.1.7 reminder within 14 days', () => {
  assert.equal(mfaRequiredFor([{ role: 'administrator', scopeKind: 'global', scopeId: '' }], ['administrator']), true);
  assert.equal(mfaRequiredFor([{ role: 'viewer', scopeKind: 'global', scopeId: '' }], ['administrator']), false);
  assert.equal(passwordExpirySoon(principal({ passwordExpiresInDays: 14 })), true);
  assert.equal(passwordExpirySoon(principal({ passwordExpiresInDays: 15 })), false);
});

test('NVR-5.4.3.1a: heldPermissions gives the UI exactly what some resource allows (scoped grants stay in their kind)', () => {
  const scoped = [{ role: 'operator' as const, scopeKind: 'camera' as const, scopeId: 'gate' }];
  assert.deepEqual(heldPermissions(scoped), ['camera.view', 'camera.playback', 'camera.export']);
  for (const p of heldPermissions(scoped)) assert.equal(isAllowed(scoped, p, { kind: 'camera', id: 'gate' }), true, p);
  const site = [{ role: 'viewer' as const, scopeKind: 'site' as const, scopeId: 'hq' }];
  assert.deepEqual(heldPermissions(site), ['camera.view', 'camera.playback', 'door.view']);
  assert.ok(heldPermissions([{ role: 'administrator', scopeKind: 'global', scopeId: '' }]).includes('users.manage'));
  assert.deepEqual(heldPermissions([{ role: 'auditor', scopeKind: 'global', scopeId: '' }]), ['system.read', 'users.read', 'audit.read', 'audit.export', 'alarms.read']);
});
