import { db } from "../db";
import { hashLinkToken } from "../auth/link-token";
import { invitationStatus } from "./present";

/**
 * What an invitation link is, for the console's /invite page before anyone accepts it: the organization,
 * the invited email and role, and where it stands (pending, expired, accepted, revoked). Null for a token
 * that matches nothing. Only the holder of the link (256 random bits) can ask; nothing changes.
 */
export async function previewInvitation({ token }: { token: string }) {
  if (!token || token.length > 200) return null;
  const inv = await db.invitation.findUnique({
    where: { tokenHash: hashLinkToken(token) },
    select: { email: true, role: true, expiresAt: true, acceptedAt: true, revokedAt: true, organization: { select: { id: true, name: true } } },
  });
  if (!inv) return null;
  return {
    organization: inv.organization,
    email: inv.email,
    role: inv.role,
    expiresAt: inv.expiresAt,
    status: invitationStatus(inv),
  };
}
