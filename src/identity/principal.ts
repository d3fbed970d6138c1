// The access decision for an authenticated principal: permissions.ts `isAllowed` (default deny,
// scoped grants — NVR-5.4.3.1a), except that a principal who must first change the password
// (NVR-5.4.2.1c, ACS-5.1.3.1) or enrol a second factor (NVR-5.4.1.2a) gets no permission at
// all: only the self-service routes that need no permission (change password, enrol, whoami,
// logout) stay open to them.
import { VigilError } from '../core/errors.ts';
import { isAllowed, type Grant, type Permission, type ResourceScope } from './permissions.ts';
import type { Principal } from './types.ts';

export type { Principal } from './types.ts';

export type RestrictedReason = 'password-change' | 'mfa-enrolment';

/** Days before expiry from which the UI reminds the user to change the password (ACS-5.1.1.7). */
export const PASSWORD_EXPIRY_WARNING_DAYS = 14;

export function restrictedReason(principal: Principal): RestrictedReason | null {
  if (principal.passwordChangeRequired) return 'password-change';
  if (principal.mfaEnrolmentRequired) return 'mfa-enrolment';
  return null;
}

export function authorize(principal: Principal, permission: Permission, resource?: ResourceScope): boolean {
  if (restrictedReason(principal) !== null) return false;
  return isAllowed(principal.grants, permission, resource);
}

/** `authorize`, throwing the error the client should see. */
export function assertAuthorized(principal: Principal, permission: Permission, resource?: ResourceScope): void {
  const reason = restrictedReason(principal);
  if (reason === 'password-change') throw new VigilError('VIGIL_AUTH_PASSWORD_CHANGE_REQUIRED', 'change your password to continue');
  if (reason === 'mfa-enrolment') throw new VigilError('VIGIL_AUTH_MFA_ENROLMENT_REQUIRED', 'enrol a second factor (TOTP or security key) to continue');
  if (!isAllowed(principal.grants, permission, resource)) throw new VigilError('VIGIL_FORBIDDEN', 'not allowed');
}

/** Does any of the grants' roles require a second factor (config.mfaRequiredRoles)? */
export function mfaRequiredFor(grants: readonly Grant[], mfaRequiredRoles: readonly string[]): boolean {
  return grants.some((g) => mfaRequiredRoles.includes(g.role));
}

/** ACS-5.1.1.7: should the UI remind the user to change the password soon? */
export function passwordExpirySoon(principal: Principal): boolean {
  return principal.passwordExpiresInDays <= PASSWORD_EXPIRY_WARNING_DAYS;
}
