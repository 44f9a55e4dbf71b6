import { db } from "../db";
import type { ComputeSettingsInput } from "@/lib/schemas";
import { assertColdAfterAllowed } from "../quotas/idle-rules";
import { applySize } from "./apply-size";
import { findCompute } from "./find-compute";

/**
 * Change a compute's settings. A new size is applied to the server at once (apply-size.ts) and billed from
 * the moment it runs; the idle timeouts apply from the scheduler's next look.
 */
export async function updateCompute({
  organizationIds,
  computeId,
  settings,
  actor,
}: {
  organizationIds: string[];
  computeId: string;
  settings: ComputeSettingsInput;
  actor: string;
}) {
  const compute = await findCompute({ organizationIds, computeId });
  const { organizationId } = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
  await assertColdAfterAllowed(organizationId, settings.coldAfterSeconds);
  const updated = await db.compute.update({ where: { id: compute.id }, data: settings });
  if (settings.size !== undefined && settings.size !== compute.size) {
    return applySize({ computeId: compute.id, from: compute.size, to: settings.size, actor });
  }
  return updated;
}
