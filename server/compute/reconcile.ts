import { db } from "../db";
import { config } from "../config";
import { logger } from "../logger";
import { getDriver } from "./drivers/registry";
import { getComputeById } from "./find-compute";
import { startProvisioned } from "./create-compute";
import { finishDelete } from "./delete-compute";
import { completeWake } from "./resume-compute";
import { stopAndFinish } from "./suspend-compute";
import { beginTransition, instantTransition } from "./transition";
import { organizationsOf } from "../scheduler/organizations";
import type { Compute } from "../db";
import type { OperationKind } from "../db/generated/enums";
import type { DriverState } from "./drivers/types";

// The reconciler makes the rows true to the workloads after crashes and restarts: it adopts processes that
// are still running, finishes or rolls back transitions whose owner died (lease expired), and notices
// processes that died. Every action goes through the same compare-and-set as a request would, so several
// replicas may reconcile at once.

export const ACTOR = "reconciler";
/** A compute that crashed this many times without staying up is marked failed instead of restarted. */
export const MAX_CRASHES = 3;

function leaseExpired(compute: Compute): boolean {
  return !compute.leaseUntil || compute.leaseUntil.getTime() < Date.now();
}

/**
 * Take over a transition whose owner's lease ran out: a compare-and-set that renews the lease and bumps
 * the version, so of several reconcilers exactly one carries on. Returns the row as claimed, or null.
 */
async function claim(compute: Compute): Promise<Compute | null> {
  if (!leaseExpired(compute)) return null;
  const { count } = await db.compute.updateMany({
    where: { id: compute.id, state: compute.state, version: compute.version },
    data: { version: { increment: 1 }, leaseUntil: new Date(Date.now() + config().TRANSITION_LEASE_SECONDS * 1000) },
  });
  return count === 1 ? { ...compute, version: compute.version + 1 } : null;
}

/**
 * The operation that a dead replica left running for this transition, or a new one for the reconciler
 * when none is left (so every transition it finishes is on the record).
 */
async function operationToFinish(compute: Compute, kinds: OperationKind[]): Promise<string> {
  const op = await db.operation.findFirst({
    where: { computeId: compute.id, status: "running", kind: { in: kinds } },
    orderBy: { createdAt: "desc" },
    select: { id: true },
  });
  if (op) return op.id;
  const project = await db.project.findUniqueOrThrow({ where: { id: compute.projectId }, select: { organizationId: true } });
  const created = await db.operation.create({
    data: {
      organizationId: project.organizationId,
      projectId: compute.projectId,
      computeId: compute.id,
      kind: kinds[0]!,
      actor: ACTOR,
      reason: `finishing a ${compute.state} transition whose owner stopped`,
    },
    select: { id: true },
  });
  return created.id;
}

/** Look at one compute's workload and fix its row (or the workload) if they disagree. */
export async function reconcileCompute(computeId: string): Promise<void> {
  const compute = await getComputeById(computeId).catch(() => null);
  if (compute) await reconcileRow(compute);
}

/** reconcileCompute for a row already read (a waiter that just read it; the scheduler's jobs read it afresh). */
export async function reconcileRow(compute: Compute): Promise<void> {
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;

  switch (compute.state) {
    case "provisioning": {
      if (!(await claim(compute))) return;
      await startProvisioned(compute.id, await operationToFinish(compute, ["create_compute"]));
      return;
    }
    case "resuming": {
      const claimed = await claim(compute);
      if (!claimed) return;
      // Roll forward: starting is idempotent, so a half-done resume is simply done again.
      const opId = await operationToFinish(claimed, ["resume_compute", "restart_compute"]);
      await completeWake(claimed, opId, claimed.version, "suspended").catch(() => undefined);
      return;
    }
    case "suspending": {
      const claimed = await claim(compute);
      if (!claimed) return;
      const opId = await operationToFinish(claimed, ["suspend_compute"]);
      await stopAndFinish(claimed.id, claimed.version, claimed.driver, state, { operationId: opId, killSessions: false }).catch(() => undefined);
      return;
    }
    case "deleting": {
      if (!(await claim(compute))) return;
      await finishDelete(compute.id, compute.driver, state, null).catch(() => undefined);
      return;
    }
    case "running": {
      const seen = await driver.inspect(compute.id, state);
      if (seen.status === "running") {
        if (seen.driverState && JSON.stringify(seen.driverState) !== JSON.stringify(state)) {
          // Adopted from its pid file (e.g. after the control plane lost the row's facts): remember it.
          await db.compute.updateMany({ where: { id: compute.id, version: compute.version }, data: { driverState: seen.driverState as object } });
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
        }).then(async (opId) => {
          if (opId) await stopAndFinish(compute.id, compute.version + 1, compute.driver, state, { operationId: opId, killSessions: false });
        });
      } else if (seen.status === "running") {
        await driver.pause(compute.id, state);
      }
      return;
    }
    case "suspended":
    case "failed":
      return;
  }
}

/**
 * Put on the row that a running compute's process is gone: one compare-and-set to `resuming` with a
 * restart_compute operation that also counts the crash, or to `failed` after MAX_CRASHES. Touches nothing
 * but the row. Returns the restart to carry out, or null (marked failed, or someone else moved it first).
 */
async function recordCrash(compute: Compute): Promise<{ operationId: string; version: number } | null> {
  logger.warn({ computeId: compute.id, crashes: compute.crashCount + 1 }, "compute process is gone");
  if (compute.crashCount + 1 >= MAX_CRASHES) {
    await instantTransition({
      computeId: compute.id, version: compute.version, from: "running", to: "failed",
      kind: "fail_compute", actor: ACTOR,
      reason: `the process crashed ${compute.crashCount + 1} times; not restarting it again`,
      data: { crashCount: { increment: 1 }, failureReason: "crashed repeatedly", endpointHost: null, endpointPort: null },
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
  await completeWake(compute, restart.operationId, restart.version, "running").catch((error: unknown) =>
    logger.error({ computeId: compute.id, err: String(error) }, "restart failed"),
  );
}

/**
 * For a reader that found a running row without its process (a status read): the crash goes on the row at
 * once, so the compute is never shown `running` while it is gone, but the restart itself is left to the
 * scheduler (its lease is given up at once, so the next tick of any replica takes it, or a client that
 * connects meanwhile). A read never starts a compute: a start can take as long as a tenant makes it.
 */
export async function noteCrash(compute: Compute): Promise<void> {
  if (compute.state !== "running") return;
  const restart = await recordCrash(compute);
  if (!restart) return;
  // A second write (the transition always takes a full lease); should this process die in between, the
  // lease simply runs out later.
  await db.compute.updateMany({
    where: { id: compute.id, state: "resuming", version: restart.version },
    data: { leaseUntil: new Date() },
  });
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
    case "suspended":
    case "failed":
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
