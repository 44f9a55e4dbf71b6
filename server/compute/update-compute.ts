import { db } from "../db";
import type { ComputeSettingsInput } from "@/lib/schemas";
import { findCompute } from "./find-compute";

/**
 * Change a compute's settings. A new size applies from the next start; usage is split at the change so
 * every interval is billed at the size it had.
 */
export async function updateCompute({
  organizationIds,
  computeId,
  settings,
}: {
  organizationIds: string[];
  computeId: string;
  settings: ComputeSettingsInput;
}) {
  const compute = await findCompute({ organizationIds, computeId });
  const now = new Date();
  return db.$transaction(async (tx) => {
    const updated = await tx.compute.update({ where: { id: compute.id }, data: settings });
    if (settings.size !== undefined && settings.size !== compute.size) {
      const open = await tx.usageEvent.findFirst({ where: { computeId: compute.id, endedAt: null } });
      if (open) {
        await tx.usageEvent.update({ where: { id: open.id }, data: { endedAt: now } });
        await tx.usageEvent.create({
          data: { ...open, id: undefined, size: settings.size, startedAt: now, endedAt: null },
        });
      }
    }
    return updated;
  });
}
