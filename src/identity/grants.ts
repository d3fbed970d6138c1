// Validation of role grants given by an administrator (NVR-5.4.3.1a: per-camera/per-door scope).
import { VigilError } from '../core/errors.ts';
import { SCOPE_KINDS, isRole, type Grant, type ScopeKind } from './permissions.ts';
import type { GrantInput } from './types.ts';

const SCOPE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function validateGrant(input: GrantInput): Grant {
  if (!isRole(input.role)) throw new VigilError('VIGIL_ROLE_UNKNOWN', `unknown role "${input.role.slice(0, 64)}"`, { details: { role: input.role.slice(0, 64) } });
  if (!(SCOPE_KINDS as readonly string[]).includes(input.scopeKind)) {
    throw new VigilError('VIGIL_VALIDATION', `scope kind must be one of ${SCOPE_KINDS.join(', ')}`);
  }
  const scopeKind = input.scopeKind as ScopeKind;
  const scopeId = input.scopeId ?? '';
  if (scopeKind === 'global') {
    if (scopeId !== '') throw new VigilError('VIGIL_VALIDATION', 'a global grant has no scope id');
  } else if (!SCOPE_ID.test(scopeId)) {
    throw new VigilError('VIGIL_VALIDATION', `a ${scopeKind} grant needs a scope id of 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"`);
  }
  return { role: input.role, scopeKind, scopeId };
}

export function isGlobalAdministrator(grant: Grant): boolean {
  return grant.role === 'administrator' && grant.scopeKind === 'global';
}

export function describeGrant(grant: Grant): string {
  return grant.scopeKind === 'global' ? `${grant.role}@global` : `${grant.role}@${grant.scopeKind}:${grant.scopeId}`;
}
