import { db } from "../db";
import { logger } from "../logger";
import { utcTimestamp } from "../db/sql";
import { usedCuSecondsBetween } from "../quotas/quotas";
import { invoiceLines, invoiceTotal } from "./invoice-lines";
import { monthUsage } from "./month-usage";
import { lastClosedMonth, monthBounds } from "./months";
import { planInForceAt } from "./plan-in-force";
import { planOf } from "./plans";

// Invoices are written once a month is over, by the scheduler: one per organization and month. Idempotent
// across runs and replicas: the (organizationId, month) key makes a second writer's insert do nothing, and
// a trigger refuses any later UPDATE (migration spend_cap_and_invoices), so an invoice never changes.

/** Organizations invoiced per tick at most (the rest follow on the next ticks). */
const PER_TICK = 200;

/** Write the organization's invoice for the closed month beginning at `month`; false when it existed. */
export async function finalizeInvoice(organizationId: string, month: Date): Promise<boolean> {
  const { start, end } = monthBounds(month);
  const org = await db.organization.findUnique({ where: { id: organizationId }, select: { plan: true } });
  if (!org) return false;
  const cuSeconds = (await usedCuSecondsBetween([organizationId], start, end)).get(organizationId) ?? 0;
  const usage = await monthUsage(organizationId, cuSeconds / 3600, start);
  const plan = await planInForceAt(organizationId, end, org.plan);
  const lineItems = invoiceLines(planOf(plan), usage);
  const written = await db.invoice.createMany({
    data: [{ organizationId, month: start, plan, lineItems: lineItems as object[], usage: { ...usage }, totalUsd: invoiceTotal(lineItems) }],
    skipDuplicates: true,
  });
  return written.count === 1;
}

/**
 * The scheduler's part, from its tick: invoice the last closed month for every organization that existed
 * in it and has no invoice for it yet (an anti-join on the key: nothing to do costs one indexed query).
 */
export async function finalizeClosedMonths(now = new Date()): Promise<number> {
  const month = monthBounds(lastClosedMonth(now));
  const due = await db.$queryRaw<{ id: string }[]>`
    SELECT o.id FROM "Organization" o
    WHERE o."createdAt" < ${utcTimestamp(month.end)}
      AND NOT EXISTS (SELECT 1 FROM "Invoice" i WHERE i."organizationId" = o.id AND i.month = ${utcTimestamp(month.start)})
    ORDER BY o.id LIMIT ${PER_TICK}`;
  let written = 0;
  for (const { id } of due) if (await finalizeInvoice(id, month.start)) written++;
  if (written > 0) logger.info({ month: month.start.toISOString(), written }, "invoices finalized");
  return written;
}
