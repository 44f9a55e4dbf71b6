import { db } from "../db";
import { notFound } from "../errors";
import { quotaOf, usedCuSecondsThisMonth, type QuotaStatus } from "../quotas/quotas";
import type { Plan } from "../db/generated/enums";
import { estimateCharges, type Charges, type MonthUsage } from "./estimate";
import { monthToDate } from "./month-usage";
import { planOf } from "./plans";

// What an organization has spent in the current UTC month so far, at its plan's prices: one reading shared
// by the billing reply, the spend cap (server/billing/spend-cap.ts) and the console's banner, so they agree.

export interface MonthSpend {
  plan: Plan;
  cuHoursQuota: number | null;
  spendCapUsd: number | null;
  quota: QuotaStatus;
  usage: MonthUsage;
  charges: Charges;
}

export async function monthSpend(organizationId: string, now = new Date()): Promise<MonthSpend> {
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { plan: true, cuHoursQuota: true, spendCapUsd: true } });
  if (!org) throw notFound("organization");
  const used = (await usedCuSecondsThisMonth([organizationId], now)).get(organizationId) ?? 0;
  const quota = quotaOf(org.plan, org.cuHoursQuota, used);
  const usage = await monthToDate(organizationId, used / 3600, now);
  return { plan: org.plan, cuHoursQuota: org.cuHoursQuota, spendCapUsd: org.spendCapUsd, quota, usage, charges: estimateCharges(planOf(org.plan), usage) };
}
