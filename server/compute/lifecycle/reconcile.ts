import { db, type Compute } from "../../db";
import { logger } from "../../logger";
import { organizationsOf } from "../../scheduler/organizations";
import { getDriver } from "../drivers/registry";
import type { DriverState } from "../drivers/types";
import { getComputeById } from "../find-compute";
import { countClientSessions } from "../client-sessions";
import type { SystemActorName } from "./actor";
import { NO_ADDRESS, startAndRecordRunning, stopAndRecordSuspended } from "./finish";
import { takeOverTransition } from "./take-over";
import { beginTransition, instantTransition, leaseExpired } from "./transition";

// The reconciler makes the rows true to the workloads after crashes and restarts: it adopts processes that
// are still running, finishes or rolls back transitions whose owner died (lease expired), and notices
// processes that died. Every action goes through the same compare-and-set as a request would, so several
// replicas may reconcile at once. It is the reconciler's own verb (its actor is the system's "reconciler"):
// it finishes transitions with finish.ts and take-over.ts, never through another verb.

export const ACTOR: SystemActorName = "reconciler";
/** A compute that crashed this many times without staying up is marked failed instead of restarted. */
export const MAX_CRASHES = 3;

/**
 * Look at one compute's workload and fix its row (or the workload) if they disagree. The scheduler's job
 * reads the row afresh: it may have been queued a while ago.
 */
export async function reconcileCompute(computeId: string): Promise<void> {
  const compute = await getComputeById(computeId).catch(() => null);
  if (compute) await reconcileRow(compute);
}

async function reconcileRow(compute: Compute): Promise<void> {
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;

  switch (compute.state) {
    case "provisioning":
    case "resuming":
    case "suspending":
    case "deleting":
      // Its owner's lease ran out: roll it forward (a start is idempotent, so a half-done resume is simply done again).
      await takeOverTransition(compute);
      return;
    case "running": {
      const seen = await driver.inspect(compute.id, state);
      if (seen.status === "running") {
        if (seen.driverState && JSON.stringify(seen.driverState) !== JSON.stringify(state)) {
          // Adopted from its pid file (e.g. after the control plane lost the row's facts): remember it, and
          // the socket it listens on.
          await db.compute.updateMany({
            where: { id: compute.id, version: compute.version },
            data: { driverState: seen.driverState as object, endpointSocket: driver.localSocket?.(seen.driverState) ?? null },
          });
        }
        return;
      }
      if (seen.status === "paused") {
        await driver.unpause(compute.id, state);
        return;
      }
      await handleCrash(compute);
      return;
    }
    case "paused": {
      const seen = await driver.inspect(compute.id, state);
      if (seen.status === "stopped" || seen.status === "missing") {
        await instantTransition({
          computeId: compute.id, version: compute.version, from: "paused", to: "suspending",
          kind: "suspend_compute", actor: ACTOR, reason: "the paused process ended; recorded as suspended",
        }).then(async (operationId) => {
          if (operationId) await stopAndRecordSuspended({ compute, operationId, version: compute.version + 1, killSessions: false });
        });
      } else if (seen.status === "running") {
        await pausedButRunning(compute);
      }
      return;
    }
    case "failed":
      if (await failedButAlive(compute)) await driver.stop(compute.id, state);
      return;
    case "suspended":
      return;
  }
}

/**
 * A paused row whose process runs: a thaw whose record PostgreSQL lost in a crash (the thaw's commit is
 * asynchronous: wake.ts), or a process continued by hand. A compute with user sessions is in use and is
 * never frozen under them: it is recorded running (billed from now; the scheduler pauses it again once it
 * is idle, through pauseCompute's own checks). One without sessions is frozen again, and thawed once more
 * if a wake moved the row meanwhile (as pauseCompute does). Sessions that cannot be counted leave it to the next tick.
 */
async function pausedButRunning(compute: Compute): Promise<void> {
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;
  // Threads the proxies hold without a client (pooled, lent) are nobody's session. A server that cannot be
  // asked is left for the next tick: a pause that froze it since this tick's look makes the count fail, and
  // recording that compute running would undo the pause.
  const sessions = await countClientSessions(compute).catch(() => null);
  if (sessions === null) return;
  if (sessions > 0) {
    await instantTransition({
      computeId: compute.id, version: compute.version, from: "paused", to: "running",
      kind: "resume_compute", actor: ACTOR,
      reason: "found running with open sessions while recorded paused (a wake whose record was lost); recorded running",
    });
    return;
  }
  await driver.pause(compute.id, state);
  const after = await getComputeById(compute.id).catch(() => null);
  if (after && after.version !== compute.version && after.state === "running") await driver.unpause(compute.id, state);
}

/**
 * A failed compute must not keep a workload (a pod the kubelet restarted after the last crash, a server left
 * up by a failed start). Asked without the row's facts: the driver's crash accounting (a pod restarted in
 * place counts as stopped) is for running rows; here any live server is one too many.
 */
async function failedButAlive(compute: Compute): Promise<boolean> {
  const seen = await getDriver(compute.driver).inspect(compute.id, null);
  return seen.status === "running" || seen.status === "paused";
}

/**
 * Put on the row that a running compute's process is gone: one compare-and-set to `resuming` with a
 * restart_compute operation that also counts the crash, or to `failed` after MAX_CRASHES. Returns the
 * restart to carry out, or null (marked failed, or someone else moved it first).
 */
async function recordCrash(compute: Compute): Promise<{ operationId: string; version: number } | null> {
  logger.warn({ computeId: compute.id, crashes: compute.crashCount + 1 }, "compute process is gone");
  if (compute.crashCount + 1 >= MAX_CRASHES) {
    await instantTransition({
      computeId: compute.id, version: compute.version, from: "running", to: "failed",
      kind: "fail_compute", actor: ACTOR,
      reason: `the process crashed ${compute.crashCount + 1} times; not restarting it again`,
      data: { crashCount: { increment: 1 }, failureReason: "crashed repeatedly", ...NO_ADDRESS },
    });
    return null;
  }
  const operationId = await beginTransition({
    computeId: compute.id, version: compute.version, from: "running", to: "resuming",
    kind: "restart_compute", actor: ACTOR,
    reason: `the process ended unexpectedly (crash ${compute.crashCount + 1} of ${MAX_CRASHES}); restarted`,
    data: { crashCount: { increment: 1 } },
  });
  return operationId ? { operationId, version: compute.version + 1 } : null;
}

/** A compute meant to run has no process: restart it, or mark it failed after repeated crashes. */
async function handleCrash(compute: Compute): Promise<void> {
  const restart = await recordCrash(compute);
  if (!restart) return;
  await startAndRecordRunning({ compute, operationId: restart.operationId, version: restart.version, from: "resuming" }).catch(
    (error: unknown) => logger.error({ computeId: compute.id, err: String(error) }, "restart failed"),
  );
}

/** A compute that stayed up this long after a restart is healthy again: its crash count starts over. */
export const HEALTHY_AFTER_SECONDS = 600;

/**
 * Whether reconcileRow would act on this row: a transition whose lease ran out, or a workload that does not
 * match its row. Only looks (the row, and /proc for the local driver: no lock, no connection), so the tick
 * can ask it of every compute and hand the acting to its work pool.
 */
export async function needsReconcile(compute: Compute): Promise<boolean> {
  switch (compute.state) {
    case "provisioning":
    case "resuming":
    case "suspending":
    case "deleting":
      return leaseExpired(compute);
    case "running": {
      const state = compute.driverState as DriverState | null;
      const seen = await getDriver(compute.driver).inspect(compute.id, state);
      if (seen.status !== "running") return true; // frozen (thaw it) or gone (restart it)
      return Boolean(seen.driverState) && JSON.stringify(seen.driverState) !== JSON.stringify(state);
    }
    case "paused":
      return (await getDriver(compute.driver).inspect(compute.id, compute.driverState as DriverState | null)).status !== "paused";
    case "failed":
      return failedButAlive(compute);
    case "suspended":
      return false;
  }
}

/** Where the tick hands work (the scheduler's WorkPool): one job per key, grouped by organization. */
export interface JobSink {
  has(key: string): boolean;
  enqueue(job: { key: string; group: string; label: string; run: () => Promise<unknown> }): boolean;
}

/**
 * Reconcile every compute: one query for all rows, then a look at each workload (cheap for the local
 * driver: /proc, no connection). What needs doing is queued on `jobs` (each job reads its row again and
 * acts through the usual compare-and-set), so a compute whose start takes a minute holds up nobody else.
 * Returns how many computes were looked at and how many jobs were queued.
 */
export async function reconcileAll(jobs: JobSink): Promise<{ looked: number; queued: number }> {
  const computes = await db.compute.findMany({ orderBy: { id: "asc" } });
  const due: Compute[] = [];
  for (const compute of computes) {
    if (jobs.has(compute.id)) continue; // already being seen to
    try {
      if (await needsReconcile(compute)) due.push(compute);
    } catch (error) {
      logger.error({ computeId: compute.id, err: String(error) }, "reconcile failed");
    }
  }
  const organizationOf = await organizationsOf(due.map((c) => c.projectId));
  let queued = 0;
  for (const compute of due) {
    const group = organizationOf.get(compute.projectId) ?? compute.projectId;
    if (jobs.enqueue({ key: compute.id, group, label: `reconcile ${compute.state}`, run: () => reconcileCompute(compute.id) })) queued++;
  }
  await db.compute.updateMany({
    where: { state: "running", crashCount: { gt: 0 }, stateChangedAt: { lt: new Date(Date.now() - HEALTHY_AFTER_SECONDS * 1000) } },
    data: { crashCount: 0 },
  });
  return { looked: computes.length, queued };
}
