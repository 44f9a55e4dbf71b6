import { db } from "../db";
import type { ComputeSettingsInput } from "@/lib/schemas";
import { assertColdAfterAllowed } from "../quotas/idle-rules";
import { assertComputeSizeAllowed } from "../billing/plan-limits";
import { applySize } from "./lifecycle/apply-size";
import { findComputeToChange } from "./find-compute";
import type { Caller } from "../tenancy/caller";

/**
 * Change a compute's settings. A new size is applied to the server at once (apply-size.ts) and billed from
 * the moment it runs; the idle timeouts apply from the scheduler's next look.
 */
export async function updateCompute({
  caller,
  computeId,
  settings,
}: {
  caller: Caller;
  computeId: string;
  settings: ComputeSettingsInput;
}) {
  const compute = await findComputeToChange({ caller, computeId });
  const { organizationId } = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
  await assertColdAfterAllowed(organizationId, settings.coldAfterSeconds);
  await assertComputeSizeAllowed(organizationId, settings.size);
  const updated = await db.compute.update({ where: { id: compute.id }, data: settings });
  if (settings.size !== undefined && settings.size !== compute.size) {
    return applySize({ actor: { caller }, computeId: compute.id, from: compute.size, to: settings.size });
  }
  return updated;
}
