import { lifecycleReply } from "@/app/_lib/lifecycle-reply";
import { readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { resumeCompute } from "@/server/compute/lifecycle/resume";
import { z } from "zod";

// POST /api/v1/compute/{id}/resume - wake the compute (thaw or start); answers once it accepts queries
export const POST = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  await readBody(req, z.object({}).strict());
  return lifecycleReply(await resumeCompute({ actor: { caller }, computeId: params.id, reason: "resumed through the API", waitMs: 30_000 }));
});
