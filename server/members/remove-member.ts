import { db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAuditEvent } from "../audit/record-audit-event";
import { lockOrganization, countOwners } from "../organizations/lock-organization";
import { authorize, type Caller } from "../tenancy/caller";
import { forgetVerifiedCallers } from "../tenancy/verified-callers";
import { LAST_OWNER_MESSAGE } from "./change-member-role";

/**
 * Remove a member from the acting organization, or leave it (a signed-in user removing themselves; any
 * role may leave). Admins remove members below owner, owners anyone; the last owner can neither leave nor
 * be removed (409). Access ends at once: sessions look the membership up at every request, and the API
 * keys the member made in the organization are revoked with it (and dropped from every replica's cache).
 */
export async function removeMember({ caller, userId }: { caller: Caller; userId: string }) {
  const organizationId = caller.organizationId;
  const leaving = caller.apiKeyId === null && caller.userId === userId;
  if (!leaving) authorize(caller, organizationId, "members.manage");
  const removed = await db.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const member = await tx.membership.findUnique({
      where: { userId_organizationId: { userId, organizationId } },
      select: { id: true, role: true, user: { select: { email: true, currentOrganizationId: true } } },
    });
    if (!member) throw notFound("member");
    if (!leaving && member.role === "owner") authorize(caller, organizationId, "owners.manage");
    if (member.role === "owner" && (await countOwners(tx, organizationId)) <= 1) {
      throw new AppError(
        "conflict",
        leaving ? "you are the organization's last owner and it always keeps one: make another member an owner first, then leave" : LAST_OWNER_MESSAGE,
      );
    }
    await tx.membership.delete({ where: { id: member.id } });
    const { count: revokedApiKeys } = await tx.apiKey.updateMany({
      where: { organizationId, createdById: userId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (member.user.currentOrganizationId === organizationId) {
      await tx.user.update({ where: { id: userId }, data: { currentOrganizationId: null } });
    }
    await recordAuditEvent({
      client: tx,
      organizationId,
      actor: caller,
      action: leaving ? "member.left" : "member.removed",
      targetType: "member",
      targetId: userId,
      targetLabel: member.user.email,
      details: { role: member.role, revokedApiKeys },
    });
    return { userId, email: member.user.email, role: member.role, revokedApiKeys };
  });
  // The member's API keys are refused from the next request here (other replicas: NOTIFY).
  forgetVerifiedCallers();
  return removed;
}
