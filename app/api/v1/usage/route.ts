import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { organizationUsage, UsageQuerySchema } from "@/server/usage/usage";

// GET /api/v1/usage - metered compute usage of the organization by hour or day
export const GET = withCaller(async ({ req, caller }) => {
  const query = readQuery(req, UsageQuerySchema);
  return json(await organizationUsage({ organizationIds: [caller.organizationId], query }));
});
