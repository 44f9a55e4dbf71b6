import type { Plan } from "../db/generated/enums";

// Every plan's prices, included amounts and limits in one place: quotas, the disk a compute gets, the
// idle rules, billing and the 402 errors all read from here. There is no payment provider: a plan is a
// column on the organization, changed by PATCH /api/v1/billing (server/billing/billing.ts, changeBilling),
// which is where a provider's checkout or subscription webhook would hook in.

const GIB = 1024 * 1024 * 1024;

export interface PlanLimits {
  /** Projects per organization; null: no limit. */
  projects: number | null;
  /** Largest compute size in CU. */
  maxComputeSize: number;
  /** CU-hours per calendar month (UTC); null: no limit. An organization may carry its own figure. */
  cuHoursPerMonth: number | null;
  /** Storage per compute: the local driver's disk size (server/compute/drivers/local/volume.ts). */
  storageBytesPerCompute: number;
  /** The longest a paused compute stays warm; null: no bound (coldAfterSeconds 0, never cold, allowed). */
  maxColdAfterSeconds: number | null;
}

export interface PlanPrices {
  /** USD per CU-hour past the included ones. */
  perCuHour: number;
  /** USD per GB-month of storage past the included storage (1 GB = 10^9 bytes). */
  perGbMonth: number;
  /** USD per GB through the proxy (both directions) past the included transfer. */
  perTransferGb: number;
}

export interface PlanIncluded {
  cuHours: number;
  storageGbMonths: number;
  transferGb: number;
}

export interface PlanDefinition {
  name: Plan;
  /** Upgrades in order: the plan named when a limit is hit is the first one that lifts it. */
  rank: number;
  /** USD per month, whatever is used. */
  baseMonthly: number;
  prices: PlanPrices;
  included: PlanIncluded;
  limits: PlanLimits;
}

export const PLANS: Record<Plan, PlanDefinition> = {
  free: {
    name: "free",
    rank: 0,
    baseMonthly: 0,
    // Free use is bounded by the limits, not billed: past the included amounts it stops.
    prices: { perCuHour: 0, perGbMonth: 0, perTransferGb: 0 },
    included: { cuHours: 100, storageGbMonths: 1, transferGb: 5 },
    limits: { projects: 10, maxComputeSize: 2, cuHoursPerMonth: 100, storageBytesPerCompute: 1 * GIB, maxColdAfterSeconds: 3600 },
  },
  pro: {
    name: "pro",
    rank: 1,
    baseMonthly: 19,
    prices: { perCuHour: 0.16, perGbMonth: 0.35, perTransferGb: 0.09 },
    included: { cuHours: 300, storageGbMonths: 10, transferGb: 50 },
    limits: { projects: 100, maxComputeSize: 8, cuHoursPerMonth: 2000, storageBytesPerCompute: 50 * GIB, maxColdAfterSeconds: null },
  },
  enterprise: {
    name: "enterprise",
    rank: 2,
    baseMonthly: 700,
    prices: { perCuHour: 0.14, perGbMonth: 0.3, perTransferGb: 0.07 },
    included: { cuHours: 2000, storageGbMonths: 100, transferGb: 500 },
    limits: { projects: null, maxComputeSize: 8, cuHoursPerMonth: null, storageBytesPerCompute: 1024 * GIB, maxColdAfterSeconds: null },
  },
};

export const PLAN_ORDER: Plan[] = (Object.values(PLANS) as PlanDefinition[]).sort((a, b) => a.rank - b.rank).map((p) => p.name);

export function planOf(plan: Plan): PlanDefinition {
  return PLANS[plan];
}

/**
 * The first plan above `current` whose limit admits `fits`, or null when none does (then only a
 * different request helps). Named in 402 errors so the tenant knows what to upgrade to.
 */
export function planThatLifts(current: Plan, fits: (limits: PlanLimits) => boolean): Plan | null {
  for (const name of PLAN_ORDER) {
    if (PLANS[name].rank > PLANS[current].rank && fits(PLANS[name].limits)) return name;
  }
  return null;
}

/** True when a limit of null (no limit) or `limit` admits `value`. */
export function within(limit: number | null, value: number): boolean {
  return limit === null || value <= limit;
}

/** One figure per plan, for callers that index by plan name. */
export function mapPlans<T>(pick: (plan: PlanDefinition) => T): Record<Plan, T> {
  return Object.fromEntries(PLAN_ORDER.map((name) => [name, pick(PLANS[name])])) as Record<Plan, T>;
}
