import { AppError } from "../errors";
import { logger } from "../logger";
import { getDriver } from "./drivers/registry";
import { operationErrorMessage } from "./operation-error";
import { getComputeById } from "./find-compute";
import { reconcileCompute } from "./reconcile";
import { isTransitional } from "@/lib/compute-states";
import { latestOperationId } from "./latest-operation";
import { beginTransition, finishTransition } from "./transition";
import { waitForSettled } from "./wait-for-settled";
import type { DriverState } from "./drivers/types";
import type { LifecycleResult } from "./resume-compute";

export interface SuspendInput {
  computeId: string;
  actor: string;
  reason: string | null;
  waitMs?: number;
  /** Close open sessions first (the API's suspend is forced; the scheduler only suspends idle computes). */
  force?: boolean;
  /** Act only if the compute is still at this version (the scheduler's decision was made on it). */
  expectVersion?: number;
}

/** Cold suspend: stop the server process and release its port and memory; the data stays. */
export async function suspendCompute(input: SuspendInput): Promise<LifecycleResult> {
  const deadline = Date.now() + (input.waitMs ?? 60_000);
  for (;;) {
    const compute = await getComputeById(input.computeId);
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
        const operationId = await beginTransition({
          computeId: compute.id,
          version: compute.version,
          from: compute.state,
          to: "suspending",
          kind: "suspend_compute",
          actor: input.actor,
          reason: input.reason,
        });
        if (!operationId) continue;
        await stopAndFinish(compute.id, compute.version + 1, compute.driver, compute.driverState as DriverState | null, {
          operationId,
          killSessions: Boolean(input.force) && compute.state === "running",
        });
        return { compute: await getComputeById(compute.id), operationId, pending: false };
      }
      default: {
        const settled = await waitForSettled(compute.id, Math.max(0, deadline - Date.now()));
        if (!settled) {
          return { compute: await getComputeById(compute.id), operationId: await latestOperationId(compute.id), pending: true };
        }
        if (isTransitional(settled.state)) {
          // The replica that owned this transition died (its lease ran out): the reconciler's path finishes it.
          await reconcileCompute(settled.id);
          if (Date.now() >= deadline) {
            return { compute: await getComputeById(compute.id), operationId: await latestOperationId(compute.id), pending: true };
          }
        }
      }
    }
  }
}

/** The second half of a suspend: stop the workload, then record `suspended` (or `failed`). */
export async function stopAndFinish(
  computeId: string,
  version: number,
  driverName: string,
  driverState: DriverState | null,
  { operationId, killSessions }: { operationId: string; killSessions: boolean },
): Promise<void> {
  const driver = getDriver(driverName);
  try {
    if (killSessions) await driver.killUserSessions(computeId, driverState).catch(() => undefined);
    await driver.stop(computeId, driverState);
    await finishTransition({
      computeId,
      version,
      from: "suspending",
      to: "suspended",
      operationId,
      data: { endpointHost: null, endpointPort: null, activeConnections: 0 },
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const message = operationErrorMessage(error, "stopping the compute");
    logger.error({ computeId, err: detail }, "suspend failed");
    await finishTransition({
      computeId,
      version,
      from: "suspending",
      to: "failed",
      operationId,
      error: message,
      data: { failureReason: "the compute could not be stopped cleanly" },
    });
    throw new AppError("internal", "the compute could not be suspended; it is marked failed");
  }
}
