import { db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAuditEvent } from "../audit/record-audit-event";
import { lockOrganization, countOwners } from "../organizations/lock-organization";
import { authorize, type Caller } from "../tenancy/caller";
import { forgetVerifiedCallers } from "../tenancy/verified-callers";
import type { MemberRole } from "@/lib/roles";

export const LAST_OWNER_MESSAGE = "an organization always keeps an owner: make another member an owner first";

/**
 * Change a member's role in the acting organization. Admins change roles below owner; only owners grant or
 * take away the owner role; the last owner cannot be demoted (409).
 */
export async function changeMemberRole({ caller, userId, role }: { caller: Caller; userId: string; role: MemberRole }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "members.manage");
  const changed = await db.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId);
    const member = await tx.membership.findUnique({
      where: { userId_organizationId: { userId, organizationId } },
      select: { id: true, role: true, user: { select: { email: true } } },
    });
    if (!member) throw notFound("member");
    if (member.role === "owner" || role === "owner") authorize(caller, organizationId, "owners.manage");
    const unchanged = member.role === role;
    if (!unchanged && member.role === "owner" && (await countOwners(tx, organizationId)) <= 1) {
      throw new AppError("conflict", LAST_OWNER_MESSAGE);
    }
    if (!unchanged) {
      await tx.membership.update({ where: { id: member.id }, data: { role } });
      await recordAuditEvent({
        client: tx,
        organizationId,
        actor: caller,
        action: "member.role_changed",
        targetType: "member",
        targetId: userId,
        targetLabel: member.user.email,
        details: { from: member.role, to: role },
      });
    }
    return { id: member.id, userId, email: member.user.email, role };
  });
  // The member's API keys act with the new role from the next request here (other replicas: NOTIFY).
  forgetVerifiedCallers();
  return changed;
}
