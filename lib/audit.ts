// What the audit log records (server/audit): who changed members, their roles, invitations, API keys,
// project roles, the plan or the spend cap, and when. The console labels entries by these actions.

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
  "spend_cap.changed",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargetType = "organization" | "member" | "invitation" | "api_key" | "project_role";

/** One audit event as a sentence without its subject ("changed the role of ana@example.com from viewer to admin"). */
export function describeAuditEvent(event: { action: string; targetLabel: string | null; details: Record<string, unknown> | null }): string {
  const target = event.targetLabel ?? "(unnamed)";
  const d = event.details ?? {};
  const str = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : null);
  const keys = typeof d.revokedApiKeys === "number" && d.revokedApiKeys > 0 ? `; ${d.revokedApiKeys} API ${d.revokedApiKeys === 1 ? "key" : "keys"} revoked` : "";
  const as = str("role") ? ` as ${str("role")}` : "";
  switch (event.action as AuditAction) {
    case "organization.created":
      return `created the organization ${target}`;
    case "member.invited":
      return `invited ${target}${as}`;
    case "invitation.revoked":
      return `revoked the invitation of ${target}`;
    case "member.joined":
      return `joined${as} (${target})`;
    case "member.role_changed":
      return `changed the role of ${target} from ${str("from") ?? "?"} to ${str("to") ?? "?"}`;
    case "member.removed":
      return `removed ${target}${str("role") ? ` (${str("role")})` : ""}${keys}`;
    case "member.left":
      return `left the organization${keys}`;
    case "api_key.created":
      return `created the API key ${target}${str("role") ? ` with the ${str("role")} role` : ""}`;
    case "api_key.revoked":
      return `revoked the API key ${target}`;
    case "project_role.created":
      return `created the database role ${target}`;
    case "project_role.password_reset":
      return `reset the password of the database role ${target}`;
    case "project_role.deleted":
      return `deleted the database role ${target}`;
    case "plan.changed":
      return `changed the plan from ${str("from") ?? "?"} to ${str("to") ?? "?"}`;
    case "spend_cap.changed": {
      const cap = (k: string) => (typeof d[k] === "number" ? `$${(d[k] as number).toFixed(2)}` : "none");
      return `changed the monthly spend cap from ${cap("from")} to ${cap("to")}`;
    }
    default:
      return `${event.action} ${target}`;
  }
}

/** Events per page of the console's audit log. */
export const AUDIT_PAGE_SIZE = 25;
