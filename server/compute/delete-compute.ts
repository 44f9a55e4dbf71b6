import { db } from "../db";
import { AppError } from "../errors";
import { logger } from "../logger";
import { getDriver } from "./drivers/registry";
import { getComputeById } from "./find-compute";
import { beginTransition } from "./transition";
import { waitForSettled } from "./wait-for-settled";
import { isTransitional } from "@/lib/compute-states";
import { reconcileCompute } from "./reconcile";
import type { DriverState } from "./drivers/types";

/**
 * Delete a compute: its workload and data are destroyed, then the row goes. Operations and usage stay (they
 * keep the compute's id). A crash half-way leaves the compute `deleting`, which the reconciler finishes.
 */
export async function deleteCompute({
  computeId,
  actor,
  reason,
  waitMs = 60_000,
}: {
  computeId: string;
  actor: string;
  reason: string | null;
  waitMs?: number;
}): Promise<{ operationId: string | null }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const compute = await getComputeById(computeId).catch(() => null);
    if (!compute) return { operationId: null }; // already gone
    if (isTransitional(compute.state)) {
      // Another replica is moving it (or deleting it): wait for that, or take over once its lease ran out.
      const settled = await waitForSettled(compute.id, Math.max(0, deadline - Date.now())).catch(() => null);
      if (!settled) {
        if ((await db.compute.count({ where: { id: computeId } })) === 0) return { operationId: null };
        throw new AppError("conflict", `the compute is still ${compute.state}; try again in a moment`);
      }
      if (settled.state === "deleting") {
        await finishDelete(settled.id, settled.driver, settled.driverState as DriverState | null, null);
        return { operationId: null };
      }
      if (isTransitional(settled.state)) await reconcileCompute(settled.id); // the owner died: finish its move
      continue;
    }
    const operationId = await beginTransition({
      computeId: compute.id,
      version: compute.version,
      from: compute.state,
      to: "deleting",
      kind: "delete_compute",
      actor,
      reason,
    });
    if (!operationId) continue;
    await finishDelete(compute.id, compute.driver, compute.driverState as DriverState | null, operationId);
    return { operationId };
  }
}

/** Destroy the workload, close the books, drop the row. Idempotent: the reconciler calls it again after a crash. */
export async function finishDelete(
  computeId: string,
  driverName: string,
  driverState: DriverState | null,
  operationId: string | null,
): Promise<void> {
  try {
    await getDriver(driverName).destroy(computeId, driverState);
  } catch (error) {
    logger.error({ computeId, err: String(error) }, "destroying the compute failed; the reconciler will retry");
    throw new AppError("internal", "the compute could not be deleted yet; it will be retried");
  }
  const now = new Date();
  await db.$transaction([
    db.usageEvent.updateMany({ where: { computeId, endedAt: null }, data: { endedAt: now } }),
    db.operation.updateMany({
      where: operationId ? { id: operationId } : { computeId, kind: "delete_compute", status: "running" },
      data: { status: "succeeded", finishedAt: now },
    }),
    db.compute.deleteMany({ where: { id: computeId, state: "deleting" } }),
  ]);
}
