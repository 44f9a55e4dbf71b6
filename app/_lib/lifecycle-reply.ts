import { json } from "./http";
import { presentCompute } from "@/server/compute/present";
import { getOperation } from "@/server/operations/operations";
import type { LifecycleResult } from "@/server/compute/resume-compute";

/** 200 with the compute and its operation when the transition is done, 202 while it is still under way. */
export async function lifecycleReply(result: LifecycleResult) {
  return json(
    { compute: presentCompute(result.compute), operation: await getOperation(result.operationId) },
    result.pending ? 202 : 200,
  );
}
