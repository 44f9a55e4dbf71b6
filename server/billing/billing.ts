import { db } from "../db";
import { notFound } from "../errors";
import { recordAuditEvent } from "../audit/record-audit-event";
import { PLAN_CU_HOURS, PLAN_STORAGE_BYTES, quotaStatus } from "../quotas/quotas";
import { planOf, PLAN_ORDER, PLANS } from "./plans";
import { estimateCharges, projectToMonth } from "./estimate";
import { assertFitsPlan } from "./downgrade-check";
import { lockOrganization } from "../organizations/lock-organization";
import { monthBounds, monthToDate } from "./month-usage";
import { authorize, type Caller } from "../tenancy/caller";
import type { Plan } from "../db/generated/enums";

/** The acting organization's plan, its limits and this month's use; owners and admins only. */
export async function getBilling({ caller }: { caller: Caller }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.read");
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { plan: true, cuHoursQuota: true } });
  if (!org) throw notFound("organization");
  const quota = await quotaStatus(organizationId);
  const plan = planOf(org.plan);
  const now = new Date();
  const soFar = await monthToDate(organizationId, quota.usedCuSeconds / 3600, now);
  const projected = projectToMonth(soFar, monthBounds(now).elapsed);
  return {
    organizationId,
    plan: org.plan,
    limits: {
      ...plan.limits,
      cuHoursPerMonth: org.cuHoursQuota ?? PLAN_CU_HOURS[org.plan],
      storageBytesPerCompute: PLAN_STORAGE_BYTES[org.plan],
    },
    usage: { cuHoursThisMonth: quota.usedCuSeconds / 3600, projects: await db.project.count({ where: { organizationId } }) },
    /** True when a free organization's computes are suspended for the month (an upgrade lifts it). */
    quotaExceeded: quota.exceeded,
    /** Every plan's prices, included amounts and limits, for the billing page's comparison. */
    plans: PLAN_ORDER.map((name) => PLANS[name]),
    /** This month so far and projected to its end, in billing units and USD at the plan's prices. */
    spend: {
      monthToDate: { usage: soFar, charges: estimateCharges(plan, soFar) },
      estimate: { usage: projected, charges: estimateCharges(plan, projected) },
    },
  };
}

/**
 * Change the acting organization's plan; only owners may. Recorded in the audit log. The change applies at
 * once: quotas and limits read the plan when they are checked, so an upgraded organization's suspended
 * computes wake on their next connection. There is no payment provider: this is where one would hook in
 * (a checkout before the change, or its subscription webhook calling this with the paid plan).
 */
export async function changePlan({ caller, plan }: { caller: Caller; plan: Plan }) {
  const organizationId = caller.organizationId;
  authorize(caller, organizationId, "billing.write");
  await db.$transaction(async (tx) => {
    // Under the organization's row lock (assertProjectLimit takes it too): no project is created while a
    // smaller plan is checked against what the organization holds.
    await lockOrganization(tx, organizationId);
    const before = await tx.organization.findUnique({ where: { id: organizationId }, select: { plan: true } });
    if (!before) throw notFound("organization");
    if (before.plan === plan) return;
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
  });
  return getBilling({ caller });
}
