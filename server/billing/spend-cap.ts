import { db } from "../db";
import { AppError } from "../errors";
import { usd } from "@/lib/format";
import { monthBounds } from "./months";
import { monthSpend } from "./month-spend";
import { PLANS } from "./plans";
import type { Plan } from "../db/generated/enums";

// An organization may cap its monthly spend (Organization.spendCapUsd, set by PATCH /api/v1/billing). At
// 80 % the console warns and the operations log says so; at 100 % the computes are suspended and wakes
// refused (402 / MySQL 1226) like an exhausted quota, until the cap is raised or the month turns: the
// check reads the cap and the month's spend each time, so either lifts it at once.

/** The thresholds that alert, in percent of the cap. */
export const SPEND_THRESHOLDS = [80, 100] as const;
export type SpendThreshold = (typeof SPEND_THRESHOLDS)[number];

export interface SpendCapStatus {
  capUsd: number | null;
  spentUsd: number;
  /** Spend as a fraction of the cap (null without a cap). */
  share: number | null;
  /** The highest threshold reached this month, or null. */
  threshold: SpendThreshold | null;
  /** The month the figures are for (its first instant, UTC). */
  month: string;
}

/** The highest threshold a spend reaches against a cap (null: none, or no cap). */
export function thresholdReached(capUsd: number | null, spentUsd: number): SpendThreshold | null {
  if (capUsd === null) return null;
  // In whole cents, without division: 1.20 / 1.50 is 0.7999999999999999 in floating point, which would miss 80 %.
  const spentCents = Math.round(spentUsd * 100);
  const capCents = Math.round(capUsd * 100);
  let reached: SpendThreshold | null = null;
  for (const t of SPEND_THRESHOLDS) if (spentCents * 100 >= t * capCents) reached = t;
  return reached;
}

/**
 * A cap must be above the plan's base price: the base is charged from the month's first hour, so a cap at or
 * below it would suspend every compute at once and the month turning would never lift it. `changingPlan`:
 * the cap is the one the organization already has and the plan is what changes (409: raise or remove the
 * cap first); otherwise the cap itself is what is asked for (422 naming spendCapUsd).
 */
export function assertCapAbovePlanBase(capUsd: number | null, plan: Plan, changingPlan: boolean): void {
  const base = PLANS[plan].baseMonthly;
  if (capUsd === null || capUsd > base) return;
  if (changingPlan) {
    throw new AppError(
      "conflict",
      `the ${plan} plan's base price is ${usd(base)} a month, at or above the organization's spend cap of ${usd(capUsd)}; ` +
        `raise the cap above ${usd(base)} or remove it (PATCH /api/v1/billing {"spendCapUsd": ...}) before changing the plan`,
      [{ path: "spendCapUsd", message: `raise spendCapUsd above ${base} or set it to null first`, current: capUsd, min: base, plan }],
    );
  }
  throw new AppError("validation", `spendCapUsd must be more than the ${plan} plan's base price of ${usd(base)} a month`, [
    { path: "spendCapUsd", message: `must be more than the ${plan} plan's base price of ${usd(base)} a month (null removes the cap)` },
  ]);
}

export function capStatus(capUsd: number | null, spentUsd: number, now: Date): SpendCapStatus {
  return {
    capUsd,
    spentUsd,
    share: capUsd === null ? null : capUsd > 0 ? spentUsd / capUsd : spentUsd > 0 ? Infinity : 1,
    threshold: thresholdReached(capUsd, spentUsd),
    month: monthBounds(now).start.toISOString(),
  };
}

export async function spendCapStatus(organizationId: string, now = new Date()): Promise<SpendCapStatus> {
  const spend = await monthSpend(organizationId, now);
  return capStatus(spend.spendCapUsd, spend.charges.totalUsd, now);
}

/** Why a wake or start is refused at the cap, naming it and how to go on (the proxy sends it as 1226). */
export function spendCapError(status: SpendCapStatus, now = new Date()): AppError {
  const nextMonth = monthBounds(now).end.toISOString();
  return new AppError(
    "quota_exceeded",
    `the organization has reached its monthly spend cap of ${usd(status.capUsd ?? 0)} (${usd(status.spentUsd)} spent this month); ` +
      `raise the cap (Spend cap on the console's Billing page, or PATCH /api/v1/billing {"spendCapUsd": <a higher amount or null>}) to go on at once, ` +
      `or wait for the next month (${nextMonth})`,
    [{ message: `spendCapUsd is ${status.capUsd}`, limit: "spendCapUsd", max: status.capUsd, current: status.spentUsd }],
  );
}

/** Throws quota_exceeded (402) when the organization's spend has reached its cap this month. */
export async function assertSpendCap(organizationId: string, now = new Date()): Promise<void> {
  // Every wake passes here: an organization without a cap (most) costs one primary-key read, not the month's spend.
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { spendCapUsd: true } });
  if (org?.spendCapUsd == null) return;
  const status = await spendCapStatus(organizationId, now);
  if (status.threshold === 100) throw spendCapError(status, now);
}

/** The console banner's reading: null unless the organization has a cap and has reached 80 % of it. */
export async function spendCapWarning(organizationId: string): Promise<SpendCapStatus | null> {
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { spendCapUsd: true } });
  if (org?.spendCapUsd == null) return null; // most organizations: one indexed read per page
  const status = await spendCapStatus(organizationId);
  return status.threshold === null ? null : status;
}
