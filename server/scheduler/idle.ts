import { db } from "../db";
import { Prisma } from "../db/generated/client";
import { utcTimestamp } from "../db/sql";
import { config } from "../config";
import { logger } from "../logger";
import { countClientSessions } from "../compute/client-sessions";
import { pauseCompute } from "../compute/lifecycle/pause";
import { suspendCompute } from "../compute/lifecycle/suspend";
import { PROXY_HEARTBEAT_TTL_MS } from "../proxy-activity";
import type { JobSink } from "../compute/lifecycle/reconcile";
import { coldReason, pauseReason, plannedColdAfter, WAKE_WINDOW_SECONDS } from "./idle-policy";
import { PLAN_MAX_COLD_AFTER_SECONDS } from "../quotas/idle-rules";
import type { Plan } from "../db/generated/enums";
import { organizationsOf } from "./organizations";

// The scheduler's idle work. Candidates are found with one query each (so a tick stays cheap with tens of
// thousands of computes) and handed to the scheduler's work pool, which asks the compute itself and acts
// off the tick (a compute that is slow to answer delays nobody else). Each action is a compare-and-set on
// the version the decision was made on, so two schedulers never pause or suspend a compute twice in one
// idle period.

/** The scheduler acts on every tenant's computes: an explicit system actor, not an unchecked call. */
const ACTOR = { system: "scheduler" } as const;

interface IdleCandidate {
  id: string;
  projectId: string;
  version: number;
  idleSince: Date;
  suspendTimeoutSeconds: number;
}

/**
 * Running computes idle for their timeout: no connection through any live proxy, and no activity since
 * the later of their last start and their last connection closing. With `computeId`, that one only (a
 * queued job asks again when it runs: a client may have come meanwhile).
 */
async function idleRunning(now: Date, computeId?: string): Promise<IdleCandidate[]> {
  const liveSince = new Date(now.getTime() - PROXY_HEARTBEAT_TTL_MS);
  const only = computeId === undefined ? Prisma.empty : Prisma.sql`AND c.id = ${computeId}`;
  return db.$queryRaw<IdleCandidate[]>`
    SELECT c.id, c."projectId", c.version, c."suspendTimeoutSeconds",
           GREATEST(c."stateChangedAt", COALESCE(c."lastActiveAt", c."stateChangedAt")) AS "idleSince"
    FROM "Compute" c
    WHERE c.state = 'running' ${only}
      AND c."suspendTimeoutSeconds" > 0
      AND GREATEST(c."stateChangedAt", COALESCE(c."lastActiveAt", c."stateChangedAt"))
          <= ${utcTimestamp(now)} - make_interval(secs => c."suspendTimeoutSeconds")
      AND NOT EXISTS (
        SELECT 1 FROM "ProxyActivity" a JOIN "ProxyInstance" p ON p.id = a."proxyId"
        WHERE a."computeId" = c.id AND a.connections > 0 AND p."heartbeatAt" > ${utcTimestamp(liveSince)})`;
}

/** Queue a pause for every idle running compute; returns how many were queued. */
export async function pauseIdleComputes(jobs: JobSink, now = new Date()): Promise<number> {
  const candidates = (await idleRunning(now)).filter((c) => !jobs.has(c.id));
  const organizationOf = await organizationsOf(candidates.map((c) => c.projectId));
  let queued = 0;
  for (const candidate of candidates) {
    const group = organizationOf.get(candidate.projectId) ?? candidate.projectId;
    const job = { key: candidate.id, group, label: "pause idle", run: () => pauseIfIdle(candidate) };
    if (jobs.enqueue(job)) queued++;
  }
  return queued;
}

/**
 * A pool job: pause the candidate unless it moved or stopped being idle since it was queued, or someone
 * works on the compute directly.
 */
async function pauseIfIdle(candidate: IdleCandidate): Promise<boolean> {
  const [still] = await idleRunning(new Date(), candidate.id);
  if (!still || still.version !== candidate.version) return false;
  const compute = await db.compute.findUnique({ where: { id: candidate.id } });
  if (!compute || compute.version !== candidate.version || compute.state !== "running") return false;
  // Sessions on the server itself, less the idle threads live proxies hold without a client (their pools):
  // parked sessions are not activity, pinned ones already count as connections.
  const sessions = await countClientSessions(compute).catch(() => null); // the reconciler deals with a compute that cannot be asked
  if (sessions === null) return false;
  const now = new Date();
  if (sessions > 0) {
    // Someone works on the compute directly: that is activity, and the idle clock starts again.
    await db.compute.updateMany({ where: { id: compute.id, version: compute.version }, data: { lastActiveAt: now } });
    return false;
  }
  const idleSeconds = Math.round((now.getTime() - new Date(still.idleSince).getTime()) / 1000);
  return (await pauseCompute({ actor: ACTOR, computeId: compute.id, expectVersion: compute.version, reason: pauseReason(idleSeconds) })) !== null;
}

/** Queue a suspend for every compute paused for its (adaptive) cold-after time; returns how many were queued. */
export async function suspendColdComputes(jobs: JobSink, now = new Date()): Promise<number> {
  const min = config().MIN_SUSPEND_TIMEOUT_SECONDS;
  // The shortest possible cold-after is a quarter of the setting (or the minimum): fetch those, decide exactly below.
  // Plans that bound the warm time (free: an hour) take part with that bound, also for computes set to 0.
  const bounded = Object.entries(PLAN_MAX_COLD_AFTER_SECONDS).filter(([, max]) => max !== null) as [Plan, number][];
  const capOf = (plan: Plan) => PLAN_MAX_COLD_AFTER_SECONDS[plan];
  const capSql = bounded.length === 0
    ? Prisma.sql`NULL::int`
    : Prisma.sql`CASE o.plan::text ${Prisma.join(bounded.map(([plan, max]) => Prisma.sql`WHEN ${plan} THEN ${max}::int`), " ")} END`;
  const candidates = await db.$queryRaw<{ id: string; projectId: string; version: number; coldAfterSeconds: number; enteredStateAt: Date; plan: Plan }[]>`
    SELECT c.id, c."projectId", c.version, c."coldAfterSeconds", c."enteredStateAt", o.plan::text AS plan
    FROM "Compute" c JOIN "Project" p ON p.id = c."projectId" JOIN "Organization" o ON o.id = p."organizationId"
    WHERE c.state = 'paused' AND (c."coldAfterSeconds" > 0 OR ${capSql} IS NOT NULL)
      AND c."enteredStateAt" <= ${utcTimestamp(now)} - make_interval(secs => LEAST(
        COALESCE(${capSql}, 2147483647),
        GREATEST(${min}::int, c."coldAfterSeconds" / 4)))`;
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
  const organizationOf = await organizationsOf(candidates.map((c) => c.projectId));
  let queued = 0;
  for (const c of candidates) {
    if (jobs.has(c.id)) continue;
    const cold = plannedColdAfter(c.coldAfterSeconds, wakesOf.get(c.id) ?? 0, min, { name: c.plan, maxSeconds: capOf(c.plan) });
    const pausedSeconds = Math.round((now.getTime() - new Date(c.enteredStateAt).getTime()) / 1000);
    if (!cold || pausedSeconds < cold.seconds) continue;
    const reason = coldReason(pausedSeconds, cold, c.coldAfterSeconds);
    const run = () =>
      suspendCompute({ actor: ACTOR, computeId: c.id, reason, expectVersion: c.version }).catch((error: unknown) =>
        logger.error({ computeId: c.id, err: String(error) }, "going cold failed"),
      );
    const group = organizationOf.get(c.projectId) ?? c.projectId;
    if (jobs.enqueue({ key: c.id, group, label: "go cold", run })) queued++;
  }
  return queued;
}
