import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { organizationUsageByProject, UsageQuerySchema } from "@/server/usage/usage";

// GET /api/v1/usage/projects - the organization's metered usage by hour or day, one series per project
export const GET = withCaller(async ({ req, caller }) => {
  const query = readQuery(req, UsageQuerySchema);
  return json(await organizationUsageByProject({ organizationId: caller.organizationId, query }));
});
