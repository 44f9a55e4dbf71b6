// What the audit log records (server/audit): who changed members, their roles, invitations, API keys,
// project roles or the plan, and when. The console labels entries by these actions.

export const AUDIT_ACTIONS = [
  "organization.created",
  "member.invited",
  "invitation.revoked",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "member.left",
  "api_key.created",
  "api_key.revoked",
  "project_role.created",
  "project_role.password_reset",
  "project_role.deleted",
  "plan.changed",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargetType = "organization" | "member" | "invitation" | "api_key" | "project_role";
