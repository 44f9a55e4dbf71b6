import { db } from "../db";
import { AppError } from "../errors";
import type { Plan } from "../db/generated/enums";
import { mapPlans, planThatLifts } from "../billing/plans";

// How long a compute may stay paused, by plan (DESIGN.md, "Compute lifecycle"). Paused time is not billed:
// a frozen server's memory is the platform's cost of fast wakes, so on the free plan a paused compute goes
// cold within an hour, and "never go cold" (coldAfterSeconds 0) or anything longer takes a paid plan.

/** The longest a paused compute stays warm on each plan; null: no bound (0 = never cold allowed). */
export const PLAN_MAX_COLD_AFTER_SECONDS: Record<Plan, number | null> = mapPlans((p) => p.limits.maxColdAfterSeconds);

/** Throws 402 (naming the plan that lifts it) when the plan does not allow this cold-after setting. */
export async function assertColdAfterAllowed(organizationId: string, coldAfterSeconds: number | undefined): Promise<void> {
  if (coldAfterSeconds === undefined) return;
  const org = await db.organization.findUniqueOrThrow({ where: { id: organizationId }, select: { plan: true } });
  const max = PLAN_MAX_COLD_AFTER_SECONDS[org.plan];
  if (max === null || (coldAfterSeconds > 0 && coldAfterSeconds <= max)) return;
  const message =
    coldAfterSeconds === 0
      ? `on the ${org.plan} plan a paused compute goes cold within ${max} seconds; keeping it warm forever (coldAfterSeconds 0) needs the pro plan`
      : `on the ${org.plan} plan a paused compute goes cold within ${max} seconds; ${coldAfterSeconds} needs the pro plan`;
  throw new AppError("quota_exceeded", message, [
    {
      path: "coldAfterSeconds",
      message: `at most ${max} on the ${org.plan} plan`,
      limit: "maxColdAfterSeconds",
      max,
      currentPlan: org.plan,
      plan: planThatLifts(org.plan, (l) => l.maxColdAfterSeconds === null),
    },
  ]);
}

/** The plan's bound on an effective cold-after (the adaptive policy may stretch the setting). */
export function capColdAfter(plan: Plan, seconds: number): number {
  const max = PLAN_MAX_COLD_AFTER_SECONDS[plan];
  return max === null ? seconds : Math.min(max, seconds);
}
