import type { Compute } from "../../db";
import { AppError } from "../../errors";
import { getDriver } from "../drivers/registry";
import type { DriverState } from "../drivers/types";
import { getComputeById } from "../find-compute";
import { latestOperationId } from "../latest-operation";
import { actorName, computeFor, type Actor } from "./actor";
import { stopAndRecordSuspended } from "./finish";
import type { LifecycleResult } from "./result";
import { settle } from "./settle";
import { beginTransition } from "./transition";

export interface SuspendInput {
  actor: Actor;
  computeId: string;
  reason: string | null;
  waitMs?: number;
  /** Close open sessions first (the API's suspend is forced; the scheduler only suspends idle computes). */
  force?: boolean;
  /** Act only if the compute is still at this version (the scheduler's decision was made on it). */
  expectVersion?: number;
}

async function runsUnfrozen(compute: Compute): Promise<boolean> {
  const seen = await getDriver(compute.driver).inspect(compute.id, compute.driverState as DriverState | null).catch(() => null);
  return seen?.status === "running";
}

/** Cold suspend: stop the server process and release its port and memory; the data stays. */
export async function suspendCompute(input: SuspendInput): Promise<LifecycleResult> {
  const deadline = Date.now() + (input.waitMs ?? 60_000);
  let compute = await computeFor(input.actor, input.computeId);
  for (;;) {
    if (input.expectVersion !== undefined && compute.version !== input.expectVersion) {
      return { compute, operationId: null, pending: false };
    }
    switch (compute.state) {
      case "suspended":
        return { compute, operationId: await latestOperationId(compute.id), pending: false };
      case "deleting":
        throw new AppError("conflict", "the compute is being deleted");
      case "running":
      case "paused":
      case "failed": {
        // A paused row whose process runs may have sessions on it (a thaw whose record PostgreSQL lost:
        // wake.ts): only a forced suspend stops it; otherwise the reconciler records it running first.
        if (compute.state === "paused" && !input.force && (await runsUnfrozen(compute))) {
          return { compute, operationId: null, pending: false };
        }
        const operationId = await beginTransition({
          computeId: compute.id,
          version: compute.version,
          from: compute.state,
          to: "suspending",
          kind: "suspend_compute",
          actor: actorName(input.actor),
          reason: input.reason,
        });
        if (operationId) {
          await stopAndRecordSuspended({
            compute,
            operationId,
            version: compute.version + 1,
            killSessions: Boolean(input.force) && compute.state === "running",
          });
          return { compute: await getComputeById(compute.id), operationId, pending: false };
        }
        compute = await getComputeById(compute.id); // lost the race: look again
        break;
      }
      default: {
        const settled = await settle(compute.id, deadline);
        if (!settled) return { compute: await getComputeById(compute.id), operationId: await latestOperationId(compute.id), pending: true };
        compute = settled;
      }
    }
  }
}
