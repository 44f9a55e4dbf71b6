import { lifecycleReply } from "@/app/_lib/lifecycle-reply";
import { readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { findComputeToChange } from "@/server/compute/find-compute";
import { suspendCompute } from "@/server/compute/suspend-compute";
import { z } from "zod";

// POST /api/v1/compute/{id}/suspend - forced cold suspend: sessions are closed, the process stops
export const POST = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  await readBody(req, z.object({}).strict());
  const compute = await findComputeToChange({ caller, computeId: params.id });
  return lifecycleReply(
    await suspendCompute({ computeId: compute.id, actor: caller.actor, reason: "suspended through the API", force: true, waitMs: 30_000 }),
  );
});
