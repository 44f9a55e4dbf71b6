import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PaginationSchema } from "@/lib/schemas";
import { listWakes } from "@/server/usage/list-wakes";

// GET /api/v1/projects/{id}/wakes - every wake as the client saw it: when, warm or cold, how long, who
export const GET = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  return json(await listWakes({ organizationIds: caller.organizationIds, projectId: params.id, pagination }));
});
