import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { computeSettingsSchema } from "@/lib/schemas";
import { config } from "@/server/config";
import { deleteCompute } from "@/server/compute/lifecycle/delete";
import { findCompute } from "@/server/compute/find-compute";
import { presentComputeWithActivity } from "@/server/compute/present-with-activity";
import { updateCompute } from "@/server/compute/update-compute";
import { getOperation } from "@/server/operations/operations";

// GET /api/v1/compute/{id} - the compute (same as its status)
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({
    compute: await presentComputeWithActivity(await findCompute({ organizationIds: caller.organizationIds, computeId: params.id })),
  });
});

// PATCH /api/v1/compute/{id} - change size (applied to the server at once) and idle timeouts
export const PATCH = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const settings = await readBody(req, computeSettingsSchema(config().MIN_SUSPEND_TIMEOUT_SECONDS));
  const compute = await updateCompute({
    caller,
    computeId: params.id,
    settings,
  });
  return json({ compute: await presentComputeWithActivity(compute) });
});

// DELETE /api/v1/compute/{id} - stop the compute and delete its data
export const DELETE = withCaller<{ id: string }>(async ({ params, caller }) => {
  const { operationId } = await deleteCompute({ actor: { caller }, computeId: params.id, reason: "deleted through the API" });
  return json({ compute: { id: params.id }, deleted: true, operation: await getOperation(operationId) });
});
