import { db } from "../db";
import { utcTimestamp } from "../db/sql";
import { config } from "../config";
import { logger } from "../logger";
import { getDriver } from "../compute/drivers/registry";
import { pauseCompute } from "../compute/pause-compute";
import { suspendCompute } from "../compute/suspend-compute";
import { PROXY_HEARTBEAT_TTL_MS } from "../proxy-activity";
import type { DriverState } from "../compute/drivers/types";
import { coldReason, effectiveColdAfter, pauseReason, WAKE_WINDOW_SECONDS } from "./idle-policy";

// The scheduler's idle work. Candidates are found with one query each (so a tick stays cheap with tens of
// thousands of computes); each action is a compare-and-set on the version the decision was made on, so
// two schedulers never pause or suspend a compute twice in one idle period.

export const ACTOR = "scheduler";

interface IdleCandidate {
  id: string;
  version: number;
  idleSince: Date;
  suspendTimeoutSeconds: number;
}

/**
 * Running computes idle for their timeout: no connection through any live proxy, and no activity since
 * the later of their last start and their last connection closing.
 */
async function idleRunning(now: Date): Promise<IdleCandidate[]> {
  const liveSince = new Date(now.getTime() - PROXY_HEARTBEAT_TTL_MS);
  return db.$queryRaw<IdleCandidate[]>`
    SELECT c.id, c.version, c."suspendTimeoutSeconds",
           GREATEST(c."stateChangedAt", COALESCE(c."lastActiveAt", c."stateChangedAt")) AS "idleSince"
    FROM "Compute" c
    WHERE c.state = 'running'
      AND c."suspendTimeoutSeconds" > 0
      AND GREATEST(c."stateChangedAt", COALESCE(c."lastActiveAt", c."stateChangedAt"))
          <= ${utcTimestamp(now)} - make_interval(secs => c."suspendTimeoutSeconds")
      AND NOT EXISTS (
        SELECT 1 FROM "ProxyActivity" a JOIN "ProxyInstance" p ON p.id = a."proxyId"
        WHERE a."computeId" = c.id AND a.connections > 0 AND p."heartbeatAt" > ${utcTimestamp(liveSince)})`;
}

/** Pause idle running computes, after checking the compute itself for sessions that bypass the proxy. */
export async function pauseIdleComputes(now = new Date()): Promise<number> {
  let paused = 0;
  for (const candidate of await idleRunning(now)) {
    const compute = await db.compute.findUnique({ where: { id: candidate.id } });
    if (!compute || compute.version !== candidate.version || compute.state !== "running") continue;
    const driver = getDriver(compute.driver);
    const sessions = await driver
      .countUserSessions(compute.id, compute.driverState as DriverState | null)
      .catch(() => null); // the reconciler deals with a compute that cannot be asked
    if (sessions === null) continue;
    if (sessions > 0) {
      // Someone works on the compute directly: that is activity, and the idle clock starts again.
      await db.compute.updateMany({ where: { id: compute.id, version: compute.version }, data: { lastActiveAt: now } });
      continue;
    }
    const idleSeconds = Math.round((now.getTime() - new Date(candidate.idleSince).getTime()) / 1000);
    const operationId = await pauseCompute({ compute, actor: ACTOR, reason: pauseReason(idleSeconds) });
    if (operationId) paused++;
  }
  return paused;
}

/** Suspend computes paused for their (adaptive) cold-after time. */
export async function suspendColdComputes(now = new Date()): Promise<number> {
  const min = config().MIN_SUSPEND_TIMEOUT_SECONDS;
  // The shortest possible cold-after is a quarter of the setting (or the minimum): fetch those, decide exactly below.
  const candidates = await db.$queryRaw<{ id: string; version: number; coldAfterSeconds: number; enteredStateAt: Date }[]>`
    SELECT id, version, "coldAfterSeconds", "enteredStateAt" FROM "Compute"
    WHERE state = 'paused' AND "coldAfterSeconds" > 0
      AND "enteredStateAt" <= ${utcTimestamp(now)} - make_interval(secs => GREATEST(${min}::int, "coldAfterSeconds" / 4))`;
  if (candidates.length === 0) return 0;
  const wakes = await db.operation.groupBy({
    by: ["computeId"],
    where: {
      computeId: { in: candidates.map((c) => c.id) },
      kind: "resume_compute",
      createdAt: { gt: new Date(now.getTime() - WAKE_WINDOW_SECONDS * 1000) },
    },
    _count: { _all: true },
  });
  const wakesOf = new Map(wakes.map((w) => [w.computeId, w._count._all]));
  let suspended = 0;
  for (const c of candidates) {
    const cold = effectiveColdAfter(c.coldAfterSeconds, wakesOf.get(c.id) ?? 0, min);
    const pausedSeconds = Math.round((now.getTime() - new Date(c.enteredStateAt).getTime()) / 1000);
    if (!cold || pausedSeconds < cold.seconds) continue;
    try {
      const result = await suspendCompute({
        computeId: c.id,
        actor: ACTOR,
        reason: coldReason(pausedSeconds, cold, c.coldAfterSeconds),
        expectVersion: c.version,
      });
      if (result.operationId && result.compute.state === "suspended") suspended++;
    } catch (error) {
      logger.error({ computeId: c.id, err: String(error) }, "going cold failed");
    }
  }
  return suspended;
}
