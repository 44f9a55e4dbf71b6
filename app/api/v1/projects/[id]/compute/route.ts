import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { computeSettingsSchema } from "@/lib/schemas";
import { config } from "@/server/config";
import { createCompute } from "@/server/compute/lifecycle/create";
import { presentCompute } from "@/server/compute/present";
import { getOperation } from "@/server/operations/operations";

// POST /api/v1/projects/{id}/compute - create and start the project's compute; the password is shown once
export const POST = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const settings = await readBody(req, computeSettingsSchema(config().MIN_SUSPEND_TIMEOUT_SECONDS));
  const { compute, connection, operationId } = await createCompute({
    caller,
    projectId: params.id,
    settings,
  });
  return json({ compute: presentCompute(compute), connection, operation: await getOperation(operationId) }, 201);
});
