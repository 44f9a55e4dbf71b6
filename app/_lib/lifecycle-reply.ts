import { json } from "./http";
import { presentComputeWithActivity } from "@/server/compute/present-with-activity";
import { getOperation } from "@/server/operations/operations";
import type { LifecycleResult } from "@/server/compute/lifecycle/result";

/** 200 with the compute and its operation when the transition is done, 202 while it is still under way. */
export async function lifecycleReply(result: LifecycleResult) {
  return json(
    { compute: await presentComputeWithActivity(result.compute), operation: await getOperation(result.operationId) },
    result.pending ? 202 : 200,
  );
}
