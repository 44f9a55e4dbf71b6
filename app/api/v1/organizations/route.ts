import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { OrganizationCreateSchema } from "@/lib/schemas";
import { createOrganization } from "@/server/organizations/create-organization";
import { listOrganizations } from "@/server/organizations/list-organizations";

// GET /api/v1/organizations - the caller's organizations, its role in each, and which is current
export const GET = withCaller(async ({ caller }) => {
  const organizations = await listOrganizations({ caller });
  return json({ organizations, currentOrganizationId: caller.organizationId || null });
});

// POST /api/v1/organizations - create an organization; the signed-in caller is its owner and it becomes current
export const POST = withCaller(async ({ req, caller }) => {
  const { name } = await readBody(req, OrganizationCreateSchema);
  return json({ organization: await createOrganization({ caller, name }) }, 201);
});
