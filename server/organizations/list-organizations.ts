import { db } from "../db";
import type { Caller } from "../tenancy/caller";

/** The caller's organizations with its role in each and which one requests act in by default. */
export async function listOrganizations({ caller }: { caller: Caller }) {
  const rows = await db.organization.findMany({
    where: { id: { in: caller.organizationIds } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true, slug: true, name: true, plan: true, createdAt: true },
  });
  return rows.map((org) => ({ ...org, role: caller.roles[org.id]!, current: org.id === caller.organizationId }));
}
