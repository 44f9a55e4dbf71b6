import { db } from "../db";
import { page } from "../util/paginate";
import { authorize, type Caller } from "../tenancy/caller";
import type { Pagination } from "@/lib/schemas";

/** The acting organization's audit log, newest first; owners and admins only. */
export async function listAuditEvents({ caller, pagination }: { caller: Caller; pagination: Pagination }) {
  authorize(caller, caller.organizationId, "audit_log.read");
  const rows = await db.auditEvent.findMany({
    where: { organizationId: caller.organizationId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: {
      id: true,
      action: true,
      actor: true,
      actorEmail: true,
      targetType: true,
      targetId: true,
      targetLabel: true,
      details: true,
      createdAt: true,
    },
    ...page.query(pagination),
  });
  return page.result(rows, pagination);
}
