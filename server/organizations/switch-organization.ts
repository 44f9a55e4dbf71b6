import { db } from "../db";
import { actingOrganization, requireUser, type Caller } from "../tenancy/caller";
import { listOrganizations } from "./list-organizations";

/**
 * Make one of the user's organizations the current one: where the session's requests act when they name
 * none. 404 for an organization the user does not belong to.
 */
export async function switchOrganization({ caller, organizationId }: { caller: Caller; organizationId: string }) {
  const userId = requireUser(caller, "switching the current organization");
  const id = actingOrganization(caller, organizationId);
  await db.user.update({ where: { id: userId }, data: { currentOrganizationId: id } });
  const organizations = await listOrganizations({ caller: { ...caller, organizationId: id, role: caller.roles[id]! } });
  return organizations.find((o) => o.id === id)!;
}
