// Vendor default credentials a lab tries (the well-known factory pairs of cameras, recorders and
// door controllers). A fixed list, never extended into a brute force.
export const DEFAULT_CREDENTIALS: ReadonlyArray<readonly [string, string]> = [
  ['admin', 'admin'],
  ['admin', '12345'],
  ['admin', 'password'],
  ['admin', '123456'],
  ['admin', ''],
  ['admin', '1234'],
  ['admin', 'admin123'],
  ['admin', '888888'],
  ['root', 'root'],
  ['root', 'pass'],
  ['root', '12345'],
  ['root', 'vizxv'],
  ['supervisor', 'supervisor'],
  ['service', 'service'],
  ['user', 'user'],
  ['guest', 'guest'],
  ['ubnt', 'ubnt'],
  ['888888', '888888'],
  ['666666', '666666'],
  ['Admin', '1111'],
];

/**
 * The pairs tried: without --intrusive at most `perUser` passwords per user name, so a real
 * account with a lockout of ≥ 5 failures is never locked by the default-credential probe.
 */
export function credentialPlan(intrusive: boolean, perUser = 3): Array<readonly [string, string]> {
  if (intrusive) return [...DEFAULT_CREDENTIALS];
  const count = new Map<string, number>();
  return DEFAULT_CREDENTIALS.filter(([u]) => {
    const n = (count.get(u) ?? 0) + 1;
    count.set(u, n);
    return n <= perUser;
  });
}
