import { db } from "../db";
import { page } from "../util/paginate";
import type { Caller } from "../tenancy/caller";
import type { Pagination } from "@/lib/schemas";
import { INVITATION_FIELDS, presentInvitation } from "./present";

/** The acting organization's open invitations (pending or expired, never their tokens), newest first. */
export async function listInvitations({ caller, pagination }: { caller: Caller; pagination: Pagination }) {
  const rows = await db.invitation.findMany({
    where: { organizationId: caller.organizationId, acceptedAt: null, revokedAt: null },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: INVITATION_FIELDS,
    ...page.query(pagination),
  });
  const { items, nextCursor } = page.result(rows, pagination);
  return { items: items.map(presentInvitation), nextCursor };
}
