import { z } from "zod";
import { db } from "../db";
import { notFound } from "../errors";
import { PLAN_ORDER, PLANS, planOf } from "../billing/plans";
import type { Plan } from "../db/generated/enums";
import { DAY_MS, summarizeCompute, utcDayOf } from "./compute-summary";

// One compute's last days for the project page's usage panel (GET /api/v1/compute/{id}/usage-summary):
// its state intervals and wakes from the database, summarized by compute-summary.ts.

export const ComputeUsageQuerySchema = z.object({
  /** Whole UTC days ending today (today counts up to now). */
  days: z.coerce.number().int().min(1).max(90).default(30),
});

/**
 * The price savings are shown at: the plan's own price per CU-hour, or, for a plan that charges none (free
 * is bounded by its quota instead), the first paid plan's, named so the figure says what it is.
 */
export function savingsPrice(plan: Plan): { perCuHour: number; plan: Plan } {
  if (PLANS[plan].prices.perCuHour > 0) return { perCuHour: PLANS[plan].prices.perCuHour, plan };
  const paid = PLAN_ORDER.find((name) => PLANS[name].prices.perCuHour > 0) ?? plan;
  return { perCuHour: PLANS[paid].prices.perCuHour, plan: paid };
}

export async function computeUsageSummary({
  organizationIds,
  computeId,
  days,
  now = new Date(),
}: {
  organizationIds: string[];
  computeId: string;
  days: number;
  now?: Date;
}) {
  // Scoped by the caller's organizations: another tenant's compute is the same 404 as a missing one.
  const compute = await db.compute.findFirst({
    where: { id: computeId, project: { organizationId: { in: organizationIds } } },
    select: { id: true, size: true, project: { select: { organization: { select: { plan: true } } } } },
  });
  if (!compute) throw notFound("compute");
  const from = new Date(utcDayOf(now.getTime()) - (days - 1) * DAY_MS);
  const [intervals, wakes] = await Promise.all([
    db.usageEvent.findMany({
      where: { computeId: compute.id, startedAt: { lt: now }, OR: [{ endedAt: null }, { endedAt: { gt: from } }] },
      select: { state: true, size: true, startedAt: true, endedAt: true },
    }),
    db.wakeEvent.findMany({
      where: { computeId: compute.id, startedAt: { gte: from, lt: now } },
      select: { startedAt: true, kind: true, durationMs: true },
    }),
  ]);
  const plan = compute.project.organization.plan;
  const price = savingsPrice(plan);
  return {
    computeId: compute.id,
    size: compute.size,
    plan,
    planPricePerCuHour: planOf(plan).prices.perCuHour,
    ...summarizeCompute({ intervals, wakes, from, to: now, price }),
  };
}
