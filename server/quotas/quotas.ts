import { db } from "../db";
import { utcTimestamp } from "../db/sql";
import { AppError } from "../errors";
import { BILLED_STATES } from "@/lib/compute-states";
import type { Plan } from "../db/generated/enums";
import { mapPlans, planThatLifts } from "../billing/plans";
import { rolledRange } from "../usage/rollup";

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

function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** CU-seconds of billed intervals inside [from, to), per organization (each interval clipped to it). */
async function intervalCuSeconds(organizationIds: string[], from: Date, to: Date): Promise<{ id: string; used: number | null }[]> {
  return db.$queryRaw<{ id: string; used: number | null }[]>`
    SELECT "organizationId" AS id,
           SUM(size * GREATEST(0, EXTRACT(EPOCH FROM (LEAST(COALESCE("endedAt", ${utcTimestamp(to)}), ${utcTimestamp(to)}) - GREATEST("startedAt", ${utcTimestamp(from)})))))::float8 AS used
    FROM "UsageEvent"
    WHERE "organizationId" = ANY(${organizationIds})
      AND state::text = ANY(${[...BILLED_STATES]})
      AND "startedAt" < ${utcTimestamp(to)}
      AND ("endedAt" IS NULL OR "endedAt" > ${utcTimestamp(from)})
    GROUP BY "organizationId"`;
}

/**
 * CU-seconds each organization used this month so far: the hourly rollups for the month's rolled-up hours
 * (server/usage/rollup.ts) and the state intervals for the rest (the still-open hours), so a check late in
 * the month reads a month of hourly rows, not every interval the organization ever had.
 */
export async function usedCuSecondsThisMonth(organizationIds: string[], now = new Date()): Promise<Map<string, number>> {
  return usedCuSecondsBetween(organizationIds, monthStart(now), now);
}

/** CU-seconds each organization used in [from, to): rollups where rolled up, the intervals elsewhere. */
export async function usedCuSecondsBetween(organizationIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  if (organizationIds.length === 0 || to <= from) return used;
  const rolled = await rolledRange();
  const add = (rows: { id: string; used: number | null }[]) => rows.forEach((r) => used.set(r.id, (used.get(r.id) ?? 0) + Math.max(0, r.used ?? 0)));
  if (!rolled || rolled.to <= from || rolled.from >= to) {
    add(await intervalCuSeconds(organizationIds, from, to));
    return used;
  }
  const rolledFrom = rolled.from > from ? rolled.from : from;
  const rolledTo = rolled.to < to ? rolled.to : to;
  const hours = await db.usageHour.groupBy({
    by: ["organizationId"],
    where: { organizationId: { in: organizationIds }, hourStart: { gte: rolledFrom, lt: rolledTo } },
    _sum: { cuSeconds: true },
  });
  add(hours.map((h) => ({ id: h.organizationId, used: h._sum.cuSeconds })));
  if (rolledFrom > from) add(await intervalCuSeconds(organizationIds, from, rolledFrom));
  if (rolledTo < to) add(await intervalCuSeconds(organizationIds, rolledTo, to));
  return used;
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
