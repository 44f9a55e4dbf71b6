import { logger } from "../../logger";
import { getDriver } from "../drivers/registry";
import type { DriverState } from "../drivers/types";
import { countClientSessions } from "../client-sessions";
import { getComputeById } from "../find-compute";
import { actorName, computeFor, type Actor } from "./actor";
import { instantTransition } from "./transition";
import { wakeFrom } from "./wake";

/**
 * Warm suspend: freeze a running compute in place. The row moves first (so a client arriving now sees
 * `paused` and resumes it); after freezing, a resume that slipped in between is honoured by thawing again.
 * Returns the operation's id, or null when the compute was not running (at `expectVersion`, when given:
 * the scheduler's decision was made on that version).
 */
export async function pauseCompute({
  actor,
  computeId,
  reason,
  expectVersion,
}: {
  actor: Actor;
  computeId: string;
  reason: string;
  expectVersion?: number;
}): Promise<string | null> {
  const compute = await computeFor(actor, computeId);
  if (compute.state !== "running") return null;
  if (expectVersion !== undefined && compute.version !== expectVersion) return null;
  const operationId = await instantTransition({
    computeId: compute.id,
    version: compute.version,
    from: "running",
    to: "paused",
    kind: "pause_compute",
    actor: actorName(actor),
    reason,
  });
  if (!operationId) return null;
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;
  // A client that reached the compute after the caller's idle check (it saw `running`) must not be frozen:
  // look once more before freezing, and undo the pause if someone is there.
  const sessions = await countClientSessions(compute).catch(() => 0);
  if (sessions > 0) {
    const paused = await getComputeById(compute.id);
    await wakeFrom(paused, { actor: actorName(actor), reason: "a session opened while the compute was being paused", skipQuotaCheck: true });
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
