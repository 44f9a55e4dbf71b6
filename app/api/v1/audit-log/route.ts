import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PaginationSchema } from "@/lib/schemas";
import { listAuditEvents } from "@/server/audit/list-audit-events";

// GET /api/v1/audit-log - who changed members, roles, invitations, keys and the plan, and when (owners and admins)
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  const { items, nextCursor } = await listAuditEvents({ caller, pagination });
  return json({ auditEvents: items, nextCursor });
});
