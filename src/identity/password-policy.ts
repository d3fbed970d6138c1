// Password rules of the Taiwan GCB baseline (NVR-5.4.2.1a, CAM-T-auth-4). Pure: the history
// and age rules need stored state, so the service checks those and reports them with the same
// rule ids.
import { VigilError } from '../core/errors.ts';

export const PASSWORD_MAX_LENGTH = 128;

export const PASSWORD_RULES = {
  'min-length': 'GCB CCE-33789-9: at least the configured minimum length',
  'max-length': `at most ${PASSWORD_MAX_LENGTH} characters`,
  complexity: 'GCB CCE-33777-4: at least 3 of upper-case, lower-case, digit, symbol',
  'contains-username': 'GCB CCE-33777-4: must not contain the username',
  history: 'GCB CCE-35219-5: must differ from the remembered previous passwords',
  'min-age': 'ACS-5.1.3.1: the current password is too recent to change again',
} as const;

export type PasswordRule = keyof typeof PASSWORD_RULES;

export interface PasswordPolicyInput {
  password: string;
  /** Canonical username. */
  username: string;
  minLength: number;
}

/** Rules the password breaks, in a stable order; empty when it passes. */
export function checkPasswordPolicy(input: PasswordPolicyInput): PasswordRule[] {
  const { password, username } = input;
  const violated: PasswordRule[] = [];
  const length = [...password].length;
  // The configured minimum can only raise the GCB floor of 12, never lower it.
  if (length < Math.max(12, input.minLength)) violated.push('min-length');
  if (length > PASSWORD_MAX_LENGTH) violated.push('max-length');
  if (characterClasses(password) < 3) violated.push('complexity');
  // Windows/GCB only checks names of 3+ characters: a 1–2 letter name is in almost any password.
  if (username.length >= 3 && password.toLowerCase().includes(username)) violated.push('contains-username');
  return violated;
}

export function characterClasses(password: string): number {
  const classes = [/\p{Lu}/u, /\p{Ll}/u, /\p{Nd}/u, /[^\p{Lu}\p{Ll}\p{Nd}]/u];
  return classes.filter((re) => re.test(password)).length;
}

export function passwordPolicyError(rules: readonly PasswordRule[]): VigilError {
  const reasons = rules.map((r) => PASSWORD_RULES[r]).join('; ');
  return new VigilError('VIGIL_PASSWORD_POLICY', `password refused: ${reasons}`, { details: { rules: [...rules] } });
}

export function assertPasswordPolicy(input: PasswordPolicyInput): void {
  const rules = checkPasswordPolicy(input);
  if (rules.length > 0) throw passwordPolicyError(rules);
}
