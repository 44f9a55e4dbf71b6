import { AppError } from "../errors";

/**
 * Who is calling and which organizations they may act in. Built by the route wrapper from a session or an
 * API key; every service function scopes its queries with it.
 */
export interface Caller {
  /** Recorded on operations: "user:<id>" or "api_key:<id>". */
  actor: string;
  userId: string | null;
  apiKeyId: string | null;
  /** Every organization the caller may read and change. */
  organizationIds: string[];
  /** Where new resources go: the API key's organization, or the session's current one. */
  organizationId: string;
}

/** The organization a request acts in: the one it names (if the caller belongs to it) or the default. */
export function actingOrganization(caller: Caller, requested?: string | null): string {
  if (!requested) return caller.organizationId;
  // Not a member: indistinguishable from a missing organization.
  if (!caller.organizationIds.includes(requested)) throw new AppError("not_found", "organization not found");
  return requested;
}
