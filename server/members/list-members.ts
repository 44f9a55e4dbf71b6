import { db } from "../db";
import { page } from "../util/paginate";
import type { Caller } from "../tenancy/caller";
import type { Pagination } from "@/lib/schemas";

/** The acting organization's members, oldest first; every member (viewers too) may read them. */
export async function listMembers({ caller, pagination }: { caller: Caller; pagination: Pagination }) {
  const rows = await db.membership.findMany({
    where: { organizationId: caller.organizationId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true, userId: true, role: true, createdAt: true, user: { select: { email: true, name: true } } },
    ...page.query(pagination),
  });
  const { items, nextCursor } = page.result(rows, pagination);
  return {
    items: items.map(({ user, ...m }) => ({ ...m, email: user.email, name: user.name, you: m.userId === caller.userId && !caller.apiKeyId })),
    nextCursor,
  };
}
