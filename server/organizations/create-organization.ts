import crypto from "node:crypto";
import { db } from "../db";
import { recordAuditEvent } from "../audit/record-audit-event";
import { requireUser, type Caller } from "../tenancy/caller";
import { generateSlug, slugify } from "../util/slug";

/** A new organization owned by the signed-in caller, which becomes the user's current one. */
export async function createOrganization({ caller, name }: { caller: Caller; name: string }) {
  const userId = requireUser(caller, "creating an organization");
  const base = slugify(name, 24) || generateSlug().split("-").slice(0, 2).join("-");
  for (let attempt = 0; ; attempt++) {
    const slug = `${base}-${crypto.randomInt(1000, 10000)}`;
    try {
      return await db.$transaction(async (tx) => {
        const organization = await tx.organization.create({
          data: { slug, name, memberships: { create: { userId, role: "owner" } } },
          select: { id: true, slug: true, name: true, plan: true, createdAt: true },
        });
        await tx.user.update({ where: { id: userId }, data: { currentOrganizationId: organization.id } });
        await recordAuditEvent({
          client: tx,
          organizationId: organization.id,
          actor: caller,
          action: "organization.created",
          targetType: "organization",
          targetId: organization.id,
          targetLabel: name,
        });
        return { ...organization, role: "owner" as const, current: true };
      });
    } catch (error) {
      if ((error as { code?: string }).code !== "P2002" || attempt >= 4) throw error;
    }
  }
}
