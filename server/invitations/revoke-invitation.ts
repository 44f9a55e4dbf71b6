import { db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAuditEvent } from "../audit/record-audit-event";
import { authorize, type Caller } from "../tenancy/caller";

/** Revoke an open invitation: its link stops working at once and says so. */
export async function revokeInvitation({ caller, id }: { caller: Caller; id: string }) {
  const invitation = await db.invitation.findFirst({
    where: { id, organizationId: { in: caller.organizationIds }, revokedAt: null },
    select: { id: true, organizationId: true, email: true, role: true, acceptedAt: true },
  });
  if (!invitation) throw notFound("invitation");
  authorize(caller, invitation.organizationId, invitation.role === "owner" ? "owners.manage" : "members.manage");
  if (invitation.acceptedAt) throw new AppError("conflict", "the invitation was accepted already; remove the member instead");
  await db.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count === 0) throw new AppError("conflict", "the invitation was accepted or revoked meanwhile");
    await recordAuditEvent({
      client: tx,
      organizationId: invitation.organizationId,
      actor: caller,
      action: "invitation.revoked",
      targetType: "invitation",
      targetId: invitation.id,
      targetLabel: invitation.email,
      details: { role: invitation.role },
    });
  });
  return { id: invitation.id, email: invitation.email };
}
