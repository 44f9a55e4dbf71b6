import { readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { usageReply } from "@/app/_lib/usage-reply";
import { organizationUsage, UsageQuerySchema } from "@/server/usage/usage";

// GET /api/v1/usage - metered compute usage of the organization by hour or day (?format=csv: a download)
export const GET = withCaller(async ({ req, caller }) => {
  const query = readQuery(req, UsageQuerySchema);
  return usageReply(await organizationUsage({ organizationIds: [caller.organizationId], query }), query.format, "organization");
});
