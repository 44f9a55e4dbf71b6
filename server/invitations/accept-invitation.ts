import { db } from "../db";
import { AppError } from "../errors";
import { hashLinkToken } from "../auth/link-token";
import { recordAuditEvent } from "../audit/record-audit-event";
import { requireUser, type Caller } from "../tenancy/caller";

const notValid = () => new AppError("not_found", "this invitation link is not valid; ask the organization for a new one");

/** Why an invitation can no longer be accepted, as an error the console shows on its page. */
function refusal(inv: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now: Date): AppError | null {
  if (inv.acceptedAt) return new AppError("link_used", "this invitation was accepted already; each link works once");
  if (inv.revokedAt) return new AppError("link_revoked", "this invitation was revoked; ask the organization for a new one");
  if (inv.expiresAt <= now) {
    return new AppError("link_expired", `this invitation expired on ${inv.expiresAt.toISOString()}; ask the organization for a new one`);
  }
  return null;
}

/**
 * Accept an invitation with its token: the signed-in user whose email it was sent to joins the
 * organization with the invited role, and it becomes their current organization. The link works once;
 * expired, used and revoked links answer 410 with codes of their own (link_expired, link_used,
 * link_revoked); another user's invitation 403.
 */
export async function acceptInvitation({ caller, token }: { caller: Caller; token: string }) {
  const userId = requireUser(caller, "accepting an invitation");
  const invitation = await db.invitation.findUnique({
    where: { tokenHash: hashLinkToken(token) },
    select: {
      id: true,
      organizationId: true,
      email: true,
      role: true,
      expiresAt: true,
      acceptedAt: true,
      revokedAt: true,
      invitedById: true,
      organization: { select: { id: true, slug: true, name: true, plan: true } },
    },
  });
  if (!invitation) throw notValid();
  const now = new Date();
  const refused = refusal(invitation, now);
  if (refused) throw refused;
  if (caller.email?.toLowerCase() !== invitation.email) {
    throw new AppError(
      "forbidden",
      `this invitation was sent to ${invitation.email}; sign in as that user (or sign up with that email) to accept it`,
    );
  }
  if (caller.roles[invitation.organizationId]) {
    throw new AppError("conflict", `you are already a member of ${invitation.organization.name}`);
  }
  await db.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { acceptedAt: now, acceptedById: userId },
    });
    if (count === 0) {
      // Accepted or revoked meanwhile: say which.
      const again = await tx.invitation.findUniqueOrThrow({ where: { id: invitation.id }, select: { acceptedAt: true, revokedAt: true, expiresAt: true } });
      throw refusal(again, now) ?? new AppError("link_used", "this invitation was accepted already; each link works once");
    }
    try {
      await tx.membership.create({ data: { userId, organizationId: invitation.organizationId, role: invitation.role } });
    } catch (error) {
      if ((error as { code?: string }).code === "P2002") {
        throw new AppError("conflict", `you are already a member of ${invitation.organization.name}`);
      }
      throw error;
    }
    await tx.user.update({ where: { id: userId }, data: { currentOrganizationId: invitation.organizationId } });
    await recordAuditEvent({
      client: tx,
      organizationId: invitation.organizationId,
      actor: caller,
      action: "member.joined",
      targetType: "member",
      targetId: userId,
      targetLabel: invitation.email,
      details: { role: invitation.role, invitationId: invitation.id },
    });
  });
  return { organization: { ...invitation.organization, role: invitation.role, current: true } };
}
