import { db } from "../db";
import { AppError } from "../errors";
import { logger } from "../logger";
import { assertComputeQuota } from "../quotas/quotas";
import { getDriver } from "./drivers/registry";
import { operationErrorMessage } from "./operation-error";
import { getComputeById } from "./find-compute";
import { reconcileCompute } from "./reconcile";
import { isTransitional } from "@/lib/compute-states";
import { latestOperationId } from "./latest-operation";
import { loadComputeSpec } from "./spec";
import { syncRolesIfBehind } from "./sync-roles";
import { beginTransition, finishTransition } from "./transition";
import { waitForSettled } from "./wait-for-settled";
import type { OperationKind } from "../db/generated/enums";
import type { Compute } from "../db";
import type { DriverState } from "./drivers/types";

export interface ResumeInput {
  computeId: string;
  actor: string;
  reason: string | null;
  /** How long to wait for a transition someone else is making; after that the reply is "still going". */
  waitMs?: number;
  /** restart_compute when the reconciler brings back a crashed process. */
  kind?: OperationKind;
  /** Undoing a pause is not a new wake: no quota check. */
  skipQuotaCheck?: boolean;
  /** Bill the `resuming` interval at this size instead of the compute's (a restart for a size change). */
  usageSize?: number;
}

export interface LifecycleResult {
  compute: Compute;
  operationId: string | null;
  /** The transition is still under way (the API answers 202). */
  pending: boolean;
}

/**
 * Bring a compute to `running`, whatever state it is in: thaw a paused one, start a suspended or failed one,
 * wait for one that is moving. However many callers race, one wins the compare-and-set and does the work;
 * the others wait for its result (so 30 concurrent resumes start the process once).
 */
export async function resumeCompute(input: ResumeInput): Promise<LifecycleResult> {
  const deadline = Date.now() + (input.waitMs ?? 60_000);
  for (;;) {
    const compute = await getComputeById(input.computeId);
    switch (compute.state) {
      case "running":
        return { compute, operationId: await latestOperationId(compute.id), pending: false };
      case "deleting":
        throw new AppError("conflict", "the compute is being deleted");
      case "paused":
      case "suspended":
      case "failed": {
        const result = await wakeCompute(compute, input);
        if (result) return result;
        continue; // lost the race: look again
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

/**
 * Win the compare-and-set out of the compute's current state into `resuming`, then do the work. Null when
 * another writer moved the compute first. From `running` this is a restart of a crashed process.
 */
export async function wakeCompute(compute: Compute, input: ResumeInput): Promise<LifecycleResult | null> {
  if (input.kind !== "restart_compute" && !input.skipQuotaCheck) {
    // Waking costs compute time: refused once the month's quota is used (a crashed compute is still restarted).
    const { organizationId } = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
    await assertComputeQuota(organizationId);
  }
  const operationId = await beginTransition({
    computeId: compute.id,
    version: compute.version,
    from: compute.state,
    to: "resuming",
    kind: input.kind ?? "resume_compute",
    actor: input.actor,
    reason: input.reason,
    usageSize: input.usageSize,
  });
  if (!operationId) return null;
  await completeWake(compute, operationId, compute.version + 1, compute.state);
  return { compute: await getComputeById(compute.id), operationId, pending: false };
}

/**
 * The work of a resume once the compute is `resuming` at `version`: thaw a paused process, start anything
 * else (idempotent: a process that is already up is adopted), then record `running`, or `failed` on error.
 */
export async function completeWake(
  compute: Compute,
  operationId: string,
  version: number,
  from: Compute["state"],
): Promise<void> {
  try {
    if (from === "paused") {
      // The warm path is the one clients wait on: thaw with the facts already on the row, nothing more.
      await getDriver(compute.driver).unpause(compute.id, compute.driverState as DriverState | null);
      await finishTransition({ computeId: compute.id, version, from: "resuming", to: "running", operationId });
    } else {
      const { spec, driver: driverName, driverState } = await loadComputeSpec(compute.id);
      const driver = getDriver(driverName);
      const { rolesVersion } = await db.project.findUniqueOrThrow({
        where: { id: compute.projectId },
        select: { rolesVersion: true },
      });
      const started = await driver.start(spec, driverState);
      await finishTransition({
        computeId: compute.id,
        version,
        from: "resuming",
        to: "running",
        operationId,
        data: {
          endpointHost: started.endpoint.host,
          endpointPort: started.endpoint.port,
          driverState: started.driverState as object,
          failureReason: null,
          // A fresh start applied every role of the spec it was given.
          rolesSyncedVersion: rolesVersion,
        },
      });
    }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const message = operationErrorMessage(error, "starting the compute");
    logger.error({ computeId: compute.id, err: detail }, "resume failed");
    await finishTransition({
      computeId: compute.id,
      version,
      from: "resuming",
      to: "failed",
      operationId,
      error: message,
      data: { failureReason: "the compute could not be started", endpointHost: null, endpointPort: null },
    });
    throw new AppError("unavailable", "the compute could not be started; it is marked failed and can be resumed again");
  }
  await syncRolesIfBehind(compute.id).catch((error: unknown) =>
    logger.warn({ computeId: compute.id, err: String(error) }, "role sync after resume failed"),
  );
}
