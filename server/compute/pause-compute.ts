import { logger } from "../logger";
import { getDriver } from "./drivers/registry";
import { getComputeById } from "./find-compute";
import { instantTransition } from "./transition";
import { wakeCompute } from "./resume-compute";
import type { DriverState } from "./drivers/types";
import type { Compute } from "../db";

/**
 * Warm suspend: freeze a running compute in place. The row moves first (so a client arriving now sees
 * `paused` and resumes it); after freezing, a resume that slipped in between is honoured by thawing again.
 * Returns the operation's id, or null when the compute was no longer in the state the caller saw.
 */
export async function pauseCompute({
  compute,
  actor,
  reason,
}: {
  compute: Compute;
  actor: string;
  reason: string;
}): Promise<string | null> {
  if (compute.state !== "running") return null;
  const operationId = await instantTransition({
    computeId: compute.id,
    version: compute.version,
    from: "running",
    to: "paused",
    kind: "pause_compute",
    actor,
    reason,
  });
  if (!operationId) return null;
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;
  // A client that reached the compute after the caller's idle check (it saw `running`) must not be frozen:
  // look once more before freezing, and undo the pause if someone is there.
  const sessions = await driver.countUserSessions(compute.id, state).catch(() => 0);
  if (sessions > 0) {
    const paused = await getComputeById(compute.id);
    await wakeCompute(paused, { computeId: compute.id, actor, reason: "a session opened while the compute was being paused", skipQuotaCheck: true });
    return operationId;
  }
  try {
    await driver.pause(compute.id, state);
  } catch (error) {
    // The process is gone: the reconciler sees a paused compute without a process and records it suspended.
    logger.warn({ computeId: compute.id, err: String(error) }, "pause failed");
    return operationId;
  }
  const after = await getComputeById(compute.id).catch(() => null);
  if (after && after.version !== compute.version + 1 && after.state !== "suspending" && after.state !== "suspended") {
    await driver.unpause(compute.id, state);
  }
  return operationId;
}
