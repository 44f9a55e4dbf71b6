import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { findCompute } from "@/server/compute/find-compute";
import { presentComputeWithActivity } from "@/server/compute/present-with-activity";

// GET /api/v1/compute/{id}/status - state, endpoint, activity (reads the row only; never touches the compute)
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({
    compute: await presentComputeWithActivity(await findCompute({ organizationIds: caller.organizationIds, computeId: params.id })),
  });
});
