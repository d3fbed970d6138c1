// Personal data (display name, e-mail) is sealed at rest under the identity key, bound to the
// user row so a sealed profile cannot be moved to another user (NVR-5.2.4.1a).
import { VigilError } from '../core/errors.ts';
import { SEAL_PURPOSE } from './core.ts';
import type { SecretSealer, UserProfile } from './types.ts';

const DISPLAY_NAME_MAX = 128;
const EMAIL_MAX = 254;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;
const CONTROL = /\p{Cc}/u;

export const EMPTY_PROFILE: UserProfile = { displayName: '', email: '' };

export function validateProfile(patch: Partial<UserProfile>, base: UserProfile): UserProfile {
  const displayName = (patch.displayName ?? base.displayName).trim();
  const email = (patch.email ?? base.email).trim();
  if (displayName.length > DISPLAY_NAME_MAX || CONTROL.test(displayName)) {
    throw new VigilError('VIGIL_VALIDATION', `display name must be at most ${DISPLAY_NAME_MAX} printable characters`);
  }
  if (email !== '' && (email.length > EMAIL_MAX || !EMAIL.test(email) || CONTROL.test(email))) {
    throw new VigilError('VIGIL_VALIDATION', 'e-mail address is not valid');
  }
  return { displayName, email };
}

function aad(userId: string): string {
  return `users.profile:${userId}`;
}

export async function sealProfile(sealer: SecretSealer, userId: string, profile: UserProfile): Promise<Buffer | null> {
  if (profile.displayName === '' && profile.email === '') return null;
  return sealer.seal(SEAL_PURPOSE, JSON.stringify(profile), aad(userId));
}

export async function openProfile(sealer: SecretSealer, userId: string, sealed: Buffer | null): Promise<UserProfile> {
  if (sealed === null) return { ...EMPTY_PROFILE };
  const parsed: unknown = JSON.parse((await sealer.open(SEAL_PURPOSE, sealed, aad(userId))).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new VigilError('VIGIL_INTERNAL', 'stored profile is malformed');
  const record = parsed as Record<string, unknown>;
  return {
    displayName: typeof record['displayName'] === 'string' ? record['displayName'] : '',
    email: typeof record['email'] === 'string' ? record['email'] : '',
  };
}
