import type { Prisma } from "../db";

/**
 * Serialize membership changes of one organization inside a transaction (a row lock on it), so two
 * owners demoting each other at once cannot leave it without one.
 */
export async function lockOrganization(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Organization" WHERE "id" = ${organizationId} FOR UPDATE`;
}

/** How many owners the organization has (call under lockOrganization). */
export async function countOwners(tx: Prisma.TransactionClient, organizationId: string): Promise<number> {
  return tx.membership.count({ where: { organizationId, role: "owner" } });
}
