// Roles and permissions: one table, read by the access gate (http), the generated roles matrix
// document (docs/generated/roles.md) and the matrix test, so the documented permissions are the
// actual behaviour (NVR-5.4.3.1a, CAM-T-auth-5). Default deny: a permission not listed for a
// role is refused.

/** Every permission, with whether it can be scoped to a single resource. */
export const PERMISSIONS = {
  'system.read': { scopable: false, description: 'See product information, health and the API document' },
  'system.manage': { scopable: false, description: 'Change configuration, TLS certificate and network service toggles' },
  'users.read': { scopable: false, description: 'List users, their roles and sessions' },
  'users.manage': { scopable: false, description: 'Create, change and delete users, roles and API tokens' },
  'audit.read': { scopable: false, description: 'Read the security event log' },
  'audit.export': { scopable: false, description: 'Export the signed security event log' },
  'alarms.read': { scopable: false, description: 'See alarms' },
  'alarms.acknowledge': { scopable: false, description: 'Acknowledge and clear alarms' },
  'alarms.manage': { scopable: false, description: 'Configure alarm delivery' },
  'camera.view': { scopable: true, description: 'Watch live video' },
  'camera.playback': { scopable: true, description: 'Play back recordings' },
  'camera.export': { scopable: true, description: 'Export evidence bundles' },
  'camera.manage': { scopable: true, description: 'Add, change and remove cameras' },
  'door.view': { scopable: true, description: 'See doors and access events' },
  'door.control': { scopable: true, description: 'Unlock, lock and lock down doors' },
  'door.manage': { scopable: true, description: 'Configure doors, holders, credentials and schedules' },
  'access.manage': { scopable: false, description: 'Manage access-control sites, schedules, cardholders, credentials, access levels and imports' },
  'device.manage': { scopable: false, description: 'Enrol, attest and retire edge devices' },
  'update.install': { scopable: false, description: 'Install software updates' },
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ROLES = {
  administrator: {
    description: 'Full control of the system',
    permissions: Object.keys(PERMISSIONS) as Permission[],
  },
  operator: {
    description: 'Day-to-day monitoring: live, playback, export, alarms, door control',
    permissions: ['system.read', 'alarms.read', 'alarms.acknowledge', 'camera.view', 'camera.playback', 'camera.export', 'door.view', 'door.control'],
  },
  viewer: {
    description: 'Watches live video and recordings of the cameras granted',
    permissions: ['system.read', 'alarms.read', 'camera.view', 'camera.playback', 'door.view'],
  },
  auditor: {
    description: 'Reads and exports the security event log; changes nothing',
    permissions: ['system.read', 'users.read', 'audit.read', 'audit.export', 'alarms.read'],
  },
  installer: {
    description: 'Commissions cameras, doors and edge devices',
    permissions: ['system.read', 'alarms.read', 'camera.view', 'camera.manage', 'door.view', 'door.manage', 'access.manage', 'device.manage'],
  },
} as const satisfies Record<string, { description: string; permissions: readonly Permission[] }>;

export type Role = keyof typeof ROLES;

export const SCOPE_KINDS = ['global', 'site', 'camera', 'door'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface Grant {
  role: Role;
  scopeKind: ScopeKind;
  /** '' for global grants. */
  scopeId: string;
}

/** The resource a request touches, for scoped permissions. */
export interface ResourceScope {
  kind: Exclude<ScopeKind, 'global'>;
  id: string;
  /** Site the resource belongs to, if any: a site grant covers its cameras and doors. */
  siteId?: string;
}

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function roleHas(role: Role, permission: Permission): boolean {
  return (ROLES[role].permissions as readonly Permission[]).includes(permission);
}

/**
 * The one decision: does any grant give `permission` on `resource`? A global grant covers every
 * resource; a scoped grant covers only its own resource (or the resources of its site) and never
 * a non-scopable permission. No resource given for a scopable permission means "any resource at
 * all" (e.g. listing cameras): scoped grants count, the list is filtered by the service.
 */
export function isAllowed(grants: readonly Grant[], permission: Permission, resource?: ResourceScope): boolean {
  const scopable = PERMISSIONS[permission].scopable;
  return grants.some((g) => {
    if (!roleHas(g.role, permission)) return false;
    if (g.scopeKind === 'global') return true;
    if (!scopable) return false;
    if (resource === undefined) return true;
    if (g.scopeKind === 'site') return resource.siteId === g.scopeId || (resource.kind === 'site' && resource.id === g.scopeId);
    return g.scopeKind === resource.kind && g.scopeId === resource.id;
  });
}

/** Resource ids of `kind` that the grants give `permission` on; 'all' for a global grant. */
export function scopedIds(grants: readonly Grant[], permission: Permission, kind: ResourceScope['kind']): 'all' | Set<string> {
  const ids = new Set<string>();
  for (const g of grants) {
    if (!roleHas(g.role, permission)) continue;
    if (g.scopeKind === 'global') return 'all';
    if (g.scopeKind === kind) ids.add(g.scopeId);
  }
  return ids;
}

/**
 * The permissions the grants give on at least one resource, for the UI to show what the API
 * will allow (the API still decides each request). A camera grant counts only for camera
 * permissions, a door grant only for door permissions, a site grant for both; a scoped grant
 * never gives a non-scopable permission.
 */
export function heldPermissions(grants: readonly Grant[]): Permission[] {
  const held = new Set<Permission>();
  for (const g of grants) {
    for (const p of ROLES[g.role].permissions as readonly Permission[]) {
      if (g.scopeKind === 'global') held.add(p);
      else if (PERMISSIONS[p].scopable && (g.scopeKind === 'site' || p.startsWith(`${g.scopeKind}.`))) held.add(p);
    }
  }
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => held.has(p));
}
