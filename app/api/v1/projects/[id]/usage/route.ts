import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { projectUsage, UsageQuerySchema } from "@/server/usage/usage";

// GET /api/v1/projects/{id}/usage - metered compute usage of one project by hour or day
export const GET = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const query = readQuery(req, UsageQuerySchema);
  return json(await projectUsage({ organizationIds: caller.organizationIds, projectId: params.id, query }));
});
