import { db, Prisma } from "../db";
import { utcTimestamp } from "../db/sql";
import { AppError } from "../errors";
import { BILLED_STATES } from "@/lib/compute-states";
import type { Plan } from "../db/generated/enums";
import { mapPlans, planThatLifts } from "../billing/plans";

// Compute quotas: each plan allows so many CU-hours per calendar month (UTC); an organization may carry
// its own figure (cuHoursQuota). An organization over its quota cannot wake or start computes (the proxy
// answers with a clear error, the API with 402); running computes are not cut off.

/** From the one plans module (server/billing/plans.ts), kept under their old names for their callers. */
export const PLAN_CU_HOURS: Record<Plan, number | null> = mapPlans((p) => p.limits.cuHoursPerMonth);
/** Storage per compute: the local driver's disk limit (server/compute/drivers/local/volume.ts). */
export const PLAN_STORAGE_BYTES: Record<Plan, number> = mapPlans((p) => p.limits.storageBytesPerCompute);

export interface QuotaStatus {
  usedCuSeconds: number;
  limitCuSeconds: number | null;
  exceeded: boolean;
  plan: Plan;
}

export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * CU-seconds each organization of `organizations` (an SQL text[] expression, so that a larger statement can
 * name them by a sub-select) used in [from, to), as one SQL query with rows (id, used): the hourly rollups
 * (server/usage/rollup.ts) for the hours rolled up, the billed state intervals, each clipped, for the rest
 * (the still-open hours), so a check late in the month reads a month of hourly rows, not every interval
 * the organization ever had. One statement (once four): a cold wake checks the quota on its path.
 */
export function usedCuSecondsSql(organizations: Prisma.Sql, from: Date, to: Date): Prisma.Sql {
  const [lo, hi] = [utcTimestamp(from), utcTimestamp(to)];
  return Prisma.sql`
    WITH slots AS (SELECT MIN("hourStart") AS lo, MAX("hourStart") + interval '1 hour' AS hi FROM "UsageRollupSlot"),
    rolled AS (SELECT GREATEST(lo, ${lo}) AS lo, LEAST(hi, ${hi}) AS hi FROM slots WHERE lo IS NOT NULL AND hi > ${lo} AND lo < ${hi}),
    open_parts AS (
      SELECT ${lo} AS lo, ${hi} AS hi WHERE NOT EXISTS (SELECT 1 FROM rolled)
      UNION ALL SELECT ${lo}, lo FROM rolled WHERE lo > ${lo}
      UNION ALL SELECT hi, ${hi} FROM rolled WHERE hi < ${hi}
    ),
    parts AS (
      SELECT h."organizationId" AS id, h."cuSeconds" AS used
      FROM "UsageHour" h, rolled
      WHERE h."organizationId" = ANY(${organizations}) AND h."hourStart" >= rolled.lo AND h."hourStart" < rolled.hi
      UNION ALL
      SELECT e."organizationId",
             (e.size * GREATEST(0, EXTRACT(EPOCH FROM (LEAST(COALESCE(e."endedAt", p.hi), p.hi) - GREATEST(e."startedAt", p.lo)))))::float8
      FROM "UsageEvent" e, open_parts p
      WHERE e."organizationId" = ANY(${organizations}) AND e.state::text = ANY(${[...BILLED_STATES]})
        AND e."startedAt" < p.hi AND (e."endedAt" IS NULL OR e."endedAt" > p.lo)
    )
    SELECT id, GREATEST(0, SUM(used))::float8 AS used FROM parts GROUP BY id`;
}

/** CU-seconds each organization used this month so far (see usedCuSecondsSql). */
export async function usedCuSecondsThisMonth(organizationIds: string[], now = new Date()): Promise<Map<string, number>> {
  return usedCuSecondsBetween(organizationIds, monthStart(now), now);
}

/** CU-seconds each organization used in [from, to) (see usedCuSecondsSql). */
export async function usedCuSecondsBetween(organizationIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
  if (organizationIds.length === 0 || to <= from) return new Map();
  const rows = await db.$queryRaw<{ id: string; used: number | null }[]>(usedCuSecondsSql(Prisma.sql`${organizationIds}::text[]`, from, to));
  return new Map(rows.map((r) => [r.id, Math.max(0, r.used ?? 0)]));
}

/** The quota of an organization with this plan and override that used `usedCuSeconds`. */
export function quotaOf(plan: Plan, cuHoursQuota: number | null, usedCuSeconds: number): QuotaStatus {
  const limitHours = cuHoursQuota ?? PLAN_CU_HOURS[plan];
  const limitCuSeconds = limitHours === null ? null : limitHours * 3600;
  return { plan, usedCuSeconds, limitCuSeconds, exceeded: limitCuSeconds !== null && usedCuSeconds >= limitCuSeconds };
}

/** The organization's plan and its own quota figure, when the caller read them already (the proxy's route). */
export interface QuotaTerms {
  plan: Plan;
  cuHoursQuota: number | null;
}

/**
 * Checked only when a compute is started (cold to running, not per connection or thaw), so the use is
 * read fresh each time; the plan and override too unless the caller just read them (`terms`).
 */
export async function quotaStatus(organizationId: string, terms?: QuotaTerms, now = new Date()): Promise<QuotaStatus> {
  const org = terms ?? (await db.organization.findUnique({ where: { id: organizationId }, select: { plan: true, cuHoursQuota: true } }));
  if (!org) return { plan: "free", usedCuSeconds: 0, limitCuSeconds: 0, exceeded: true };
  const used = await usedCuSecondsThisMonth([organizationId], now);
  return quotaOf(org.plan, org.cuHoursQuota, used.get(organizationId) ?? 0);
}

/** Why a wake or start is refused, with how to go on: the proxy sends it as error 1226, the API as 402. */
export function cuHoursExceededError(plan: Plan, status: QuotaStatus, now = new Date()): AppError {
  const hours = (status.limitCuSeconds! / 3600).toFixed(0);
  const lifts = planThatLifts(plan, (l) => l.cuHoursPerMonth === null || l.cuHoursPerMonth * 3600 > status.usedCuSeconds);
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
  const upgrade = lifts
    ? `upgrade the plan to ${lifts} (Upgrade on the console's Billing page, or PATCH /api/v1/billing {"plan": "${lifts}"}) to go on at once`
    : "upgrade the plan to go on at once";
  return new AppError(
    "quota_exceeded",
    `the organization has used its ${hours} CU-hours of compute for this month; ${upgrade}, or wait for the next month (${nextMonth})`,
    [{ message: `cuHoursPerMonth is ${hours} on the ${plan} plan`, limit: "cuHoursPerMonth", max: Number(hours), currentPlan: plan, plan: lifts }],
  );
}

/** Throws quota_exceeded (402) when the organization has used its compute quota for the month. */
export async function assertComputeQuota(organizationId: string, terms?: QuotaTerms): Promise<void> {
  const status = await quotaStatus(organizationId, terms);
  if (!status.exceeded) return;
  throw cuHoursExceededError(status.plan, status);
}
