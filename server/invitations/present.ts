/** Where an invitation stands, as lists show it. */
export function invitationStatus(inv: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now = new Date()) {
  if (inv.acceptedAt) return "accepted" as const;
  if (inv.revokedAt) return "revoked" as const;
  if (inv.expiresAt <= now) return "expired" as const;
  return "pending" as const;
}

export const INVITATION_FIELDS = {
  id: true,
  organizationId: true,
  email: true,
  role: true,
  expiresAt: true,
  createdAt: true,
  acceptedAt: true,
  revokedAt: true,
  invitedBy: { select: { id: true, email: true } },
} as const;

export function presentInvitation<T extends { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }>(inv: T) {
  return { ...inv, status: invitationStatus(inv) };
}
