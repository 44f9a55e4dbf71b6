import type { Charges, MonthUsage } from "@/lib/usage-types";
import type { PlanDefinition } from "./plans";

// What a month costs on a plan: the base price plus, for each metered quantity, its price per unit past
// the plan's included amount. Pure, so the billing reply and (later) invoices compute it the same way.

// The shapes are the API's (lib/usage-types.ts), shared with the console rather than written twice.
export type { Charges, MonthUsage };

const cents = (n: number) => Math.round(n * 100) / 100;

export function estimateCharges(plan: PlanDefinition, usage: MonthUsage): Charges {
  const past = (used: number, included: number) => Math.max(0, used - included);
  const computeUsd = cents(past(usage.cuHours, plan.included.cuHours) * plan.prices.perCuHour);
  const storageUsd = cents(past(usage.storageGbMonths, plan.included.storageGbMonths) * plan.prices.perGbMonth);
  const transferUsd = cents(past(usage.transferGb, plan.included.transferGb) * plan.prices.perTransferGb);
  const baseUsd = plan.baseMonthly;
  return { baseUsd, computeUsd, storageUsd, transferUsd, totalUsd: cents(baseUsd + computeUsd + storageUsd + transferUsd) };
}

/** A month-to-date figure projected to the whole month at the same rate (the estimate). */
export function projectToMonth(usage: MonthUsage, elapsedFraction: number): MonthUsage {
  const f = elapsedFraction > 0 ? 1 / Math.min(1, elapsedFraction) : 1;
  return { cuHours: usage.cuHours * f, storageGbMonths: usage.storageGbMonths * f, transferGb: usage.transferGb * f };
}
