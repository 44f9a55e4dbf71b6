import { db, type Prisma } from "../db";
import { AppError, notFound } from "../errors";
import type { Plan } from "../db/generated/enums";
import { lockOrganization } from "../organizations/lock-organization";
import { planOf, planThatLifts, within, type PlanLimits } from "./plans";

// The 402s for creating past a plan's limit. Each names the limit, the current plan and the plan that
// lifts it, in the message (for people) and in details (for programs: `limit`, `max`, `plan`).

export function planLimitError(args: {
  limit: keyof PlanLimits;
  current: Plan;
  max: number | null;
  requested: number;
  lifts: Plan | null;
  message: string;
  path?: string;
}): AppError {
  const how = args.lifts ? `; the ${args.lifts} plan allows more (PATCH /api/v1/billing {"plan": "${args.lifts}"})` : "";
  return new AppError("quota_exceeded", `${args.message}${how}`, [
    {
      ...(args.path ? { path: args.path } : {}),
      message: `${args.limit} is at most ${args.max} on the ${args.current} plan`,
      limit: args.limit,
      max: args.max,
      requested: args.requested,
      currentPlan: args.current,
      plan: args.lifts,
    },
  ]);
}

async function planOfOrganization(client: Prisma.TransactionClient | typeof db, organizationId: string): Promise<Plan> {
  const org = await client.organization.findUnique({ where: { id: organizationId }, select: { plan: true } });
  if (!org) throw notFound("organization");
  return org.plan;
}

/**
 * Inside the transaction that creates a project: lock the organization's row (two creates at once count
 * each other) and refuse one past the plan's number of projects.
 */
export async function assertProjectLimit(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
  await lockOrganization(tx, organizationId);
  const plan = await planOfOrganization(tx, organizationId);
  const max = planOf(plan).limits.projects;
  if (max === null) return;
  const count = await tx.project.count({ where: { organizationId } });
  if (count < max) return;
  throw planLimitError({
    limit: "projects",
    current: plan,
    max,
    requested: count + 1,
    lifts: planThatLifts(plan, (l) => within(l.projects, count + 1)),
    message: `the ${plan} plan allows ${max} projects and this organization has ${count}; delete one`,
  });
}

/** Refuse a compute size above the plan's largest (422 stays for sizes not on offer at all). */
export async function assertComputeSizeAllowed(organizationId: string, size: number | undefined): Promise<void> {
  if (size === undefined) return;
  const plan = await planOfOrganization(db, organizationId);
  const max = planOf(plan).limits.maxComputeSize;
  if (size <= max) return;
  throw planLimitError({
    limit: "maxComputeSize",
    current: plan,
    max,
    requested: size,
    lifts: planThatLifts(plan, (l) => size <= l.maxComputeSize),
    message: `the ${plan} plan allows computes of at most ${max} CU; ${size} CU is more`,
    path: "size",
  });
}
