import { readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { usageReply } from "@/app/_lib/usage-reply";
import { projectUsage, UsageQuerySchema } from "@/server/usage/usage";

// GET /api/v1/projects/{id}/usage - metered compute usage of one project by hour or day (?format=csv: a download)
export const GET = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const query = readQuery(req, UsageQuerySchema);
  return usageReply(await projectUsage({ organizationIds: caller.organizationIds, projectId: params.id, query }), query.format, "project");
});
