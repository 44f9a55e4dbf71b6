import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { CurrentOrganizationSchema } from "@/lib/schemas";
import { switchOrganization } from "@/server/organizations/switch-organization";

// PATCH /api/v1/organizations/current - switch the session's current organization
export const PATCH = withCaller(async ({ req, caller }) => {
  const { organizationId } = await readBody(req, CurrentOrganizationSchema);
  return json({ organization: await switchOrganization({ caller, organizationId }) });
});
