import { db } from "../db";
import { AppError } from "../errors";
import { generateLinkToken } from "../auth/link-token";
import { recordAuditEvent } from "../audit/record-audit-event";
import { authorize, type Caller } from "../tenancy/caller";
import type { MemberRole } from "@/lib/roles";
import { INVITATION_FIELDS, presentInvitation } from "./present";

/** How long an invitation link stays valid. */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** The console page that accepts an invitation (the console asks the user to sign in or sign up first). */
export const invitationUrl = (origin: string, token: string) => `${origin}/invite?token=${encodeURIComponent(token)}`;

/**
 * Invite an email to the acting organization with a role. With no mail server, the link (and its token) is
 * in the result once, for the inviter to pass on; only its hash is kept. A new invitation to the same email
 * replaces a pending one (whose link then says it was revoked). Admins invite up to admin, owners anyone.
 */
export async function createInvitation({
  caller,
  email,
  role,
  origin,
}: {
  caller: Caller;
  email: string;
  role: MemberRole;
  origin: string;
}) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, role === "owner" ? "owners.manage" : "members.manage");
  const normalized = email.trim().toLowerCase();
  const member = await db.membership.findFirst({ where: { organizationId, user: { email: normalized } }, select: { id: true } });
  if (member) throw new AppError("conflict", `${normalized} is already a member of this organization`);
  const { token, hash } = generateLinkToken("msi_");
  const invitation = await db.$transaction(async (tx) => {
    const now = new Date();
    await tx.invitation.updateMany({
      where: { organizationId, email: normalized, acceptedAt: null, revokedAt: null },
      data: { revokedAt: now },
    });
    const created = await tx.invitation.create({
      data: {
        organizationId,
        email: normalized,
        role,
        tokenHash: hash,
        invitedById: caller.userId,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      },
      select: INVITATION_FIELDS,
    });
    await recordAuditEvent({
      client: tx,
      organizationId,
      actor: caller,
      action: "member.invited",
      targetType: "invitation",
      targetId: created.id,
      targetLabel: normalized,
      details: { role },
    });
    return created;
  });
  return { invitation: presentInvitation(invitation), url: invitationUrl(origin, token), token };
}
