import { db } from "../db";
import { notFound } from "../errors";
import { recordAuditEvent } from "../audit/record-audit-event";
import { PLAN_CU_HOURS, PLAN_STORAGE_BYTES } from "../quotas/quotas";
import { planOf, PLAN_ORDER, PLANS } from "./plans";
import { estimateCharges, projectToMonth } from "./estimate";
import { assertFitsPlan } from "./downgrade-check";
import { lockOrganization } from "../organizations/lock-organization";
import { monthBounds } from "./months";
import { monthSpend } from "./month-spend";
import { assertCapAbovePlanBase, capStatus } from "./spend-cap";
import { limitUsage } from "./limit-usage";
import { authorize, type Caller } from "../tenancy/caller";
import type { Plan } from "../db/generated/enums";

/** The acting organization's plan, its limits and this month's use; owners and admins only. */
export async function getBilling({ caller }: { caller: Caller }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.read");
  const now = new Date();
  const spend = await monthSpend(organizationId, now);
  const plan = planOf(spend.plan);
  const soFar = spend.usage;
  const projected = projectToMonth(soFar, monthBounds(now).elapsed);
  const estimate = estimateCharges(plan, projected);
  const limits = {
    ...plan.limits,
    cuHoursPerMonth: spend.cuHoursQuota ?? PLAN_CU_HOURS[spend.plan],
    storageBytesPerCompute: PLAN_STORAGE_BYTES[spend.plan],
  };
  const projects = await db.project.count({ where: { organizationId } });
  const cap = capStatus(spend.spendCapUsd, spend.charges.totalUsd, now);
  return {
    organizationId,
    plan: spend.plan,
    limits,
    usage: { cuHoursThisMonth: spend.quota.usedCuSeconds / 3600, projects },
    /** True when a free organization's computes are suspended for the month (an upgrade lifts it). */
    quotaExceeded: spend.quota.exceeded,
    /** Every plan's prices, included amounts and limits, for the billing page's comparison. */
    plans: PLAN_ORDER.map((name) => PLANS[name]),
    /** This month so far and projected to its end, in billing units and USD at the plan's prices. */
    spend: {
      monthToDate: { usage: soFar, charges: spend.charges },
      estimate: { usage: projected, charges: estimate },
    },
    /** Spend so far this month and the month's estimate, in USD (the totals of `spend`). */
    spendToDateUsd: spend.charges.totalUsd,
    estimateUsd: estimate.totalUsd,
    /** The monthly spend cap (null: none), the spend against it and the threshold (80 or 100) reached. */
    spendCap: cap,
    /** Each limit with how much of it is used: {limit, max (null: none), used, unit}. */
    limitUsage: await limitUsage({ organizationId, limits, projects, cuHours: soFar.cuHours, cap }),
  };
}

/**
 * Change the acting organization's plan and/or its monthly spend cap; only owners may. Recorded in the
 * audit log. A change applies at once: quotas, limits and the cap are read when they are checked, so an
 * upgraded organization's (or a raised cap's) suspended computes wake on their next connection. There is
 * no payment provider: this is where one would hook in (a checkout before the change, or its subscription
 * webhook calling this with the paid plan).
 */
export async function changeBilling({ caller, plan, spendCapUsd }: { caller: Caller; plan?: Plan; spendCapUsd?: number | null }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.write");
  await db.$transaction(async (tx) => {
    // Under the organization's row lock (assertProjectLimit takes it too): no project is created while a
    // smaller plan is checked against what the organization holds.
    await lockOrganization(tx, organizationId);
    const before = await tx.organization.findUnique({ where: { id: organizationId }, select: { plan: true, spendCapUsd: true } });
    if (!before) throw notFound("organization");
    if (spendCapUsd != null) assertCapAbovePlanBase(spendCapUsd, plan ?? before.plan, false);
    else if (spendCapUsd === undefined && plan !== undefined) assertCapAbovePlanBase(before.spendCapUsd, plan, true);
    if (plan !== undefined && before.plan !== plan) {
      if (PLANS[plan].rank < PLANS[before.plan].rank) await assertFitsPlan(tx, organizationId, plan);
      await tx.organization.update({ where: { id: organizationId }, data: { plan } });
      await recordAuditEvent({
        client: tx,
        organizationId,
        actor: caller,
        action: "plan.changed",
        targetType: "organization",
        targetId: organizationId,
        details: { from: before.plan, to: plan },
      });
    }
    if (spendCapUsd !== undefined && before.spendCapUsd !== spendCapUsd) {
      await tx.organization.update({ where: { id: organizationId }, data: { spendCapUsd } });
      await recordAuditEvent({
        client: tx,
        organizationId,
        actor: caller,
        action: "spend_cap.changed",
        targetType: "organization",
        targetId: organizationId,
        details: { from: before.spendCapUsd, to: spendCapUsd },
      });
    }
  });
  return getBilling({ caller });
}
