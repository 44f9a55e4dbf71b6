import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PaginationSchema } from "@/lib/schemas";
import { listOperations } from "@/server/operations/operations";

// GET /api/v1/projects/{id}/operations - who or what started, suspended or woke the compute, and why
export const GET = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  return json(await listOperations({ organizationIds: caller.organizationIds, projectId: params.id, pagination }));
});
