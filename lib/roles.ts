// Members' roles and what each may do: one table, used by server/ to authorize every action (REST handlers
// and the console's server actions alike) and by the console to show only what a member may use.

export const MEMBER_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

const RANK: Record<MemberRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** Whether `role` is `other` or above it. */
export function roleAtLeast(role: MemberRole, other: MemberRole): boolean {
  return RANK[role] >= RANK[other];
}

/** The lower of two roles (an API key acts with the lower of its own and its creator's). */
export function lowerRole(a: MemberRole, b: MemberRole): MemberRole {
  return RANK[a] <= RANK[b] ? a : b;
}

/**
 * Every action a member may be refused, and the lowest role allowed it. Reading the organization's
 * projects, computes, roles, usage, operations, API keys, members and invitations needs only membership
 * (a viewer reads everything); billing and the audit log are for admins and owners.
 */
export const PERMISSIONS = {
  /** Create, change and delete projects, computes (suspend, resume, settings) and project roles. */
  "projects.write": "member",
  /** Create API keys (with a role no higher than one's own) and revoke one's own. */
  "api_keys.write": "member",
  /** Revoke anyone's API key in the organization. */
  "api_keys.revoke_any": "admin",
  /** Invite, revoke invitations, change roles below owner, remove members who are not owners. */
  "members.manage": "admin",
  /** Grant or take away the owner role, remove an owner, invite an owner. */
  "owners.manage": "owner",
  "billing.read": "admin",
  /** Change the plan. */
  "billing.write": "owner",
  "audit_log.read": "admin",
} as const satisfies Record<string, MemberRole>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: MemberRole, permission: Permission): boolean {
  return roleAtLeast(role, PERMISSIONS[permission]);
}

/**
 * Whether someone with role `actor` may give (or take away) role `role`: owners any, admins any below
 * owner, nobody else.
 */
export function canAssignRole(actor: MemberRole, role: MemberRole): boolean {
  return can(actor, role === "owner" ? "owners.manage" : "members.manage");
}

/** What each role may do, in a line, for the console's role pickers. */
export const ROLE_SUMMARIES: Record<MemberRole, string> = {
  owner: "everything, including the plan and other owners",
  admin: "members, invitations, billing and the audit log, and everything a member does",
  member: "create and change projects, computes, database roles and API keys",
  viewer: "read everything, change nothing",
};

/** The roles `actor` may give, highest first (owners any, admins up to admin, nobody else any). */
export function assignableRoles(actor: MemberRole): MemberRole[] {
  return MEMBER_ROLES.filter((r) => canAssignRole(actor, r));
}

/** The roles an API key made by `creator` may have: up to the creator's own, highest first. */
export function apiKeyRoles(creator: MemberRole): MemberRole[] {
  return MEMBER_ROLES.filter((r) => roleAtLeast(creator, r));
}
