import { db } from "../db";
import { logger } from "../logger";
import { suspendCompute } from "../compute/lifecycle/suspend";
import type { JobSink } from "../compute/lifecycle/reconcile";
import { cuHoursExceededError, quotaOf, quotaStatus, usedCuSecondsThisMonth } from "../quotas/quotas";

// A free organization gets its included CU-hours and no more: once they are used, its running and paused
// computes are suspended (a wake is refused anyway: server/quotas/quotas.ts, and the proxy answers 1226).
// Paid plans are billed past their included hours, so their computes are never cut off here. Changing
// the plan lifts it at once: the next wake reads the plan afresh. Replica-safe: each suspend is a
// compare-and-set on the version the decision was made on, so two schedulers suspend a compute once.

const ACTOR = { system: "scheduler" } as const;

interface Candidate {
  id: string;
  version: number;
  organizationId: string;
  cuHoursQuota: number | null;
}

/** Free organizations' computes that hold resources (running or paused), with their organization. */
async function awakeFreeComputes(): Promise<Candidate[]> {
  return db.$queryRaw<Candidate[]>`
    SELECT c.id, c.version, p."organizationId", o."cuHoursQuota"
    FROM "Compute" c JOIN "Project" p ON p.id = c."projectId" JOIN "Organization" o ON o.id = p."organizationId"
    WHERE c.state IN ('running', 'paused') AND o.plan = 'free'`;
}

/** Queue a forced suspend for every awake compute of a free organization past its quota. */
export async function suspendExhaustedOrganizations(jobs: JobSink): Promise<number> {
  const candidates = (await awakeFreeComputes()).filter((c) => !jobs.has(c.id));
  const byOrganization = new Map<string, Candidate[]>();
  for (const c of candidates) byOrganization.set(c.organizationId, [...(byOrganization.get(c.organizationId) ?? []), c]);
  let queued = 0;
  // One query for the month's use of every free organization with an awake compute.
  const used = await usedCuSecondsThisMonth([...byOrganization.keys()]);
  for (const [organizationId, computes] of byOrganization) {
    if (!quotaOf("free", computes[0]!.cuHoursQuota, used.get(organizationId) ?? 0).exceeded) continue;
    for (const compute of computes) {
      const job = { key: compute.id, group: organizationId, label: "suspend: quota used", run: () => suspendIfExhausted(compute) };
      if (jobs.enqueue(job)) queued++;
    }
  }
  return queued;
}

/** A pool job: look again (the plan may have changed since the tick), then suspend with the reason. */
export async function suspendIfExhausted(candidate: Candidate): Promise<boolean> {
  const status = await quotaStatus(candidate.organizationId);
  if (!status.exceeded || status.plan !== "free") return false;
  const reason = `quota: ${cuHoursExceededError(status.plan, status).message}`;
  const result = await suspendCompute({ actor: ACTOR, computeId: candidate.id, reason, force: true, expectVersion: candidate.version });
  if (result.operationId && result.compute.state === "suspended") {
    logger.info({ computeId: candidate.id, organizationId: candidate.organizationId }, "suspended: the organization used its CU-hours");
    return true;
  }
  return false;
}
