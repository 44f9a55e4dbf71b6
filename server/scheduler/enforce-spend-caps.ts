import { db } from "../db";
import { logger } from "../logger";
import { suspendCompute } from "../compute/lifecycle/suspend";
import type { JobSink } from "../compute/lifecycle/reconcile";
import { spendCapStatus } from "../billing/spend-cap";
import { recordSpendAlerts } from "../billing/spend-alerts";

// Each tick, for every organization with a spend cap: record the 80 % and 100 % alerts (once per threshold
// and month: server/billing/spend-alerts.ts) and, at 100 %, suspend its running and paused computes like an
// exhausted quota. Replica-safe: alerts are keyed, and each suspend is a compare-and-set on the version the
// decision was made on, inside a job that looks again first (the cap may have been raised meanwhile).

const ACTOR = { system: "scheduler" } as const;

interface Awake {
  id: string;
  version: number;
  organizationId: string;
}

export async function enforceSpendCaps(jobs: JobSink, now = new Date()): Promise<number> {
  const capped = await db.organization.findMany({ where: { spendCapUsd: { not: null } }, select: { id: true } });
  let queued = 0;
  for (const { id: organizationId } of capped) {
    const status = await spendCapStatus(organizationId, now);
    for (const threshold of await recordSpendAlerts(organizationId, status)) {
      logger.info({ organizationId, threshold, spentUsd: status.spentUsd, capUsd: status.capUsd }, "spend cap threshold reached");
    }
    if (status.threshold !== 100) continue;
    const awake = await db.$queryRaw<Awake[]>`
      SELECT c.id, c.version, p."organizationId"
      FROM "Compute" c JOIN "Project" p ON p.id = c."projectId"
      WHERE c.state IN ('running', 'paused') AND p."organizationId" = ${organizationId}`;
    for (const compute of awake) {
      if (jobs.has(compute.id)) continue;
      if (jobs.enqueue({ key: compute.id, group: organizationId, label: "suspend: spend cap reached", run: () => suspendIfCapped(compute) })) queued++;
    }
  }
  return queued;
}

/**
 * A pool job: look again, then suspend with the reason. The reason names no amounts: every member and viewer
 * reads the operations log, while the spend is for owners and admins (the Billing page, the 402 and 1226).
 */
export async function suspendIfCapped(candidate: Awake): Promise<boolean> {
  const status = await spendCapStatus(candidate.organizationId);
  if (status.threshold !== 100) return false;
  const reason =
    "quota: the organization has reached its monthly spend cap; its computes stay suspended until an owner raises the cap " +
    "(Spend cap on the console's Billing page) or the month turns";
  const result = await suspendCompute({ actor: ACTOR, computeId: candidate.id, reason, force: true, expectVersion: candidate.version });
  if (result.operationId && result.compute.state === "suspended") {
    logger.info({ computeId: candidate.id, organizationId: candidate.organizationId }, "suspended: the organization reached its spend cap");
    return true;
  }
  return false;
}
