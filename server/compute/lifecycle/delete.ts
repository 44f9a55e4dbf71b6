import { AppError } from "../../errors";
import { isTransitional } from "@/lib/compute-states";
import { getComputeById } from "../find-compute";
import { actorName, computeFor, type Actor } from "./actor";
import { finishDelete } from "./finish";
import { settle } from "./settle";
import { beginTransition } from "./transition";

const isNotFound = (error: unknown) => error instanceof AppError && error.code === "not_found";

/**
 * Delete a compute: its workload and data are destroyed, then the row goes. Operations and usage stay (they
 * keep the compute's id). A crash half-way leaves the compute `deleting`, which the reconciler finishes.
 * Returns the delete operation, or null when another delete did it (or finished one a dead replica left).
 */
export async function deleteCompute({
  actor,
  computeId,
  reason,
  waitMs = 60_000,
}: {
  actor: Actor;
  computeId: string;
  reason: string | null;
  waitMs?: number;
}): Promise<{ operationId: string | null }> {
  const deadline = Date.now() + waitMs;
  let compute = await computeFor(actor, computeId);
  for (;;) {
    if (isTransitional(compute.state)) {
      // Another replica is moving it, or deleting it: wait for that, or take over once its lease ran out.
      const settled = await settle(compute.id, deadline).catch((error: unknown) => {
        if (isNotFound(error)) return "gone" as const;
        throw error;
      });
      if (settled === "gone") return { operationId: null };
      if (!settled) throw new AppError("conflict", `the compute is still ${compute.state}; try again in a moment`);
      compute = settled;
      continue;
    }
    const operationId = await beginTransition({
      computeId: compute.id,
      version: compute.version,
      from: compute.state,
      to: "deleting",
      kind: "delete_compute",
      actor: actorName(actor),
      reason,
    });
    if (operationId) {
      await finishDelete({ compute, operationId });
      return { operationId };
    }
    // Lost the race: look again (a delete that won it may have removed the row already).
    const again = await getComputeById(compute.id).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (!again) return { operationId: null };
    compute = again;
  }
}
