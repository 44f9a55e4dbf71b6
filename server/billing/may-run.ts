import { Prisma } from "../db";
import type { Plan } from "../db/generated/enums";
import { assertComputeQuota, cuHoursExceededError, monthStart, PLAN_CU_HOURS, quotaOf, usedCuSecondsSql, type QuotaTerms } from "../quotas/quotas";
import { assertSpendCap } from "./spend-cap";

/**
 * Starting a compute (cold to running; a thaw is not checked, see wake.ts) costs compute time: refused (402, and 1226 through the proxy) once the
 * month's CU-hours are used or the organization's spend has reached its cap.
 */
export async function assertMayRun(organizationId: string, terms?: QuotaTerms): Promise<void> {
  await assertComputeQuota(organizationId, terms);
  await assertSpendCap(organizationId);
}

/**
 * The same check as CTEs of a statement that starts the compute only if it may run (the cold wake's one
 * statement, server/compute/lifecycle/begin-start.ts): `terms` (the compute's organization, its plan,
 * quota figure and spend cap), `used` (its CU-seconds this month) and `may_run` (`quota_ok`: under the
 * quota; `uncapped`: no spend cap, whose check needs the month's charges and is left to assertSpendCap).
 */
export function mayRunCtes(computeId: string, now = new Date()): Prisma.Sql {
  return Prisma.sql`
    terms AS (
      SELECT o.id AS "organizationId", o.plan::text AS plan, o."cuHoursQuota", o."spendCapUsd",
             COALESCE(o."cuHoursQuota", (${JSON.stringify(PLAN_CU_HOURS)}::jsonb ->> o.plan::text)::float8) * 3600 AS "limitCuSeconds"
      FROM "Compute" c JOIN "Project" p ON p.id = c."projectId" JOIN "Organization" o ON o.id = p."organizationId"
      WHERE c.id = ${computeId}
    ),
    used AS (${usedCuSecondsSql(Prisma.sql`ARRAY(SELECT "organizationId" FROM terms)`, monthStart(now), now)}),
    may_run AS (
      SELECT (t."limitCuSeconds" IS NULL OR COALESCE((SELECT used FROM used LIMIT 1), 0) < t."limitCuSeconds") AS quota_ok,
             t."spendCapUsd" IS NULL AS uncapped
      FROM terms t
    )`;
}

/** What mayRunCtes read, as a statement built on it returns it. */
export interface MayRunFacts {
  organizationId: string;
  plan: Plan;
  cuHoursQuota: number | null;
  spendCapUsd: number | null;
  usedCuSeconds: number;
}

/**
 * After a statement on mayRunCtes refused to start the compute: throws the quota's refusal, or checks the
 * spend cap (throws at the cap). Returns when the compute may run after all (a cap not reached: the
 * statement is then made again without the cap's condition).
 */
export async function assertMayRunAfterRefusal(facts: MayRunFacts): Promise<void> {
  const quota = quotaOf(facts.plan, facts.cuHoursQuota, facts.usedCuSeconds);
  if (quota.exceeded) throw cuHoursExceededError(facts.plan, quota);
  if (facts.spendCapUsd !== null) await assertSpendCap(facts.organizationId);
}
