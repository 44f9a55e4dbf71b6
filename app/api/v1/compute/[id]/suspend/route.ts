import { lifecycleReply } from "@/app/_lib/lifecycle-reply";
import { readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { suspendCompute } from "@/server/compute/lifecycle/suspend";
import { z } from "zod";

// POST /api/v1/compute/{id}/suspend - forced cold suspend: sessions are closed, the process stops
export const POST = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  await readBody(req, z.object({}).strict());
  return lifecycleReply(
    await suspendCompute({ actor: { caller }, computeId: params.id, reason: "suspended through the API", force: true, waitMs: 30_000 }),
  );
});
