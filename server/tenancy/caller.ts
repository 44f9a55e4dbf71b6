import { AppError } from "../errors";
import { can, PERMISSIONS, type MemberRole, type Permission } from "@/lib/roles";

/**
 * Who is calling and which organizations they may act in. Built from a session or an API key
 * (server/tenancy/authenticate.ts) for every request, so a removed member or a demoted one is refused at
 * once; every service function scopes its queries with it and authorizes with `authorize`, so REST
 * handlers and the console's server actions get the same rules.
 */
export interface Caller {
  /** Recorded on operations and audit events: "user:<id>" or "api_key:<id>". */
  actor: string;
  userId: string | null;
  /** The user's email (for a key: its creator's), for the audit log. */
  email: string | null;
  apiKeyId: string | null;
  /** Every organization the caller may read. */
  organizationIds: string[];
  /** The caller's role in each of them; for an API key, its own role capped by its creator's. */
  roles: Record<string, MemberRole>;
  /**
   * Where the request acts (lists, new resources): the API key's organization, or for a session the one
   * named by `?organizationId=`, else the user's current organization.
   */
  organizationId: string;
  /** The caller's role in `organizationId`. */
  role: MemberRole;
}

const organizationNotFound = () => new AppError("not_found", "organization not found");

/** The organization a request acts in: the one it names (if the caller belongs to it) or the default. */
export function actingOrganization(caller: Caller, requested?: string | null): string {
  if (!requested) return caller.organizationId;
  // Not a member: indistinguishable from a missing organization.
  if (!caller.organizationIds.includes(requested)) throw organizationNotFound();
  return requested;
}

/** The caller acting in another of its organizations (`?organizationId=`); 404 when it is not a member. */
export function inOrganization(caller: Caller, organizationId: string | null | undefined): Caller {
  const id = actingOrganization(caller, organizationId);
  const role = caller.roles[id];
  if (!role) throw organizationNotFound();
  return { ...caller, organizationId: id, role };
}

/** The caller's role in an organization; 404 when it has none there. */
export function roleIn(caller: Caller, organizationId: string): MemberRole {
  const role = caller.roles[organizationId];
  if (!role) throw organizationNotFound();
  return role;
}

const WHAT: Record<Permission, string> = {
  "projects.write": "creating or changing projects, computes and database roles",
  "api_keys.write": "creating or revoking API keys",
  "api_keys.revoke_any": "revoking another member's API key",
  "members.manage": "inviting, changing or removing members",
  "owners.manage": "granting, taking away or inviting the owner role, or removing an owner",
  "billing.read": "seeing billing",
  "billing.write": "changing the plan",
  "audit_log.read": "reading the audit log",
};

/** A 403 saying what needs which role, and the caller's. */
export function forbidden(permission: Permission, role: MemberRole): AppError {
  const needed = PERMISSIONS[permission];
  return new AppError(
    "forbidden",
    `${WHAT[permission]} needs the ${needed} role${needed === "owner" ? "" : " or higher"} in this organization; ${
      role === "viewer" ? "a viewer can read but not change anything" : `your role is ${role}`
    }`,
    [{ message: "the role this needs", requiredRole: needed, role }],
  );
}

/**
 * Refuse unless the caller's role in the organization (the one that owns the resource) allows the
 * permission: 404 when the caller is not a member there, 403 when its role is too low.
 */
export function authorize(caller: Caller, organizationId: string, permission: Permission): MemberRole {
  const role = roleIn(caller, organizationId);
  if (!can(role, permission)) throw forbidden(permission, role);
  return role;
}

/** Only a signed-in user (not an API key) may do this: its user id, or 403. */
export function requireUser(caller: Caller, what: string): string {
  if (!caller.userId || caller.apiKeyId) {
    throw new AppError("forbidden", `${what} needs a signed-in user; an API key cannot do it`);
  }
  return caller.userId;
}
