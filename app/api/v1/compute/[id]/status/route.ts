import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { findCompute } from "@/server/compute/find-compute";
import { presentCompute } from "@/server/compute/present";

// GET /api/v1/compute/{id}/status - state, endpoint, activity (reads the row only; never touches the compute)
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({ compute: presentCompute(await findCompute({ organizationIds: caller.organizationIds, computeId: params.id })) });
});
