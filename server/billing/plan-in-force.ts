import { db } from "../db";
import type { Plan } from "../db/generated/enums";

// The plan an organization had at an instant, from the audit log's plan changes (changeBilling records
// each with from and to): the last change before the instant says what it became; with none before, the
// first change after says what it was; with none at all, it is the current plan. An invoice is priced at
// the plan in force at its month's end.

const isPlan = (v: unknown): v is Plan => v === "free" || v === "pro" || v === "enterprise";

export async function planInForceAt(organizationId: string, at: Date, current: Plan): Promise<Plan> {
  const where = { organizationId, action: "plan.changed" };
  const before = await db.auditEvent.findFirst({ where: { ...where, createdAt: { lt: at } }, orderBy: { createdAt: "desc" }, select: { details: true } });
  const to = (before?.details as { to?: unknown } | null)?.to;
  if (isPlan(to)) return to;
  const after = await db.auditEvent.findFirst({ where: { ...where, createdAt: { gte: at } }, orderBy: { createdAt: "asc" }, select: { details: true } });
  const from = (after?.details as { from?: unknown } | null)?.from;
  return isPlan(from) ? from : current;
}
