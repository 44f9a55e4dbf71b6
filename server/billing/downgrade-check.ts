import type { Prisma } from "../db";
import { AppError, type ErrorDetail } from "../errors";
import type { Plan } from "../db/generated/enums";
import { planOf, within } from "./plans";

// A move to a smaller plan must leave the organization within the new plan's limits: otherwise it would
// hold what the plan cannot create (more projects, larger computes, more storage than its disk), and
// every later check would disagree with what runs. Refused with 409 naming each limit and what to change.

export async function assertFitsPlan(tx: Prisma.TransactionClient, organizationId: string, plan: Plan): Promise<void> {
  const limits = planOf(plan).limits;
  const problems: ErrorDetail[] = [];
  const projects = await tx.project.count({ where: { organizationId } });
  if (!within(limits.projects, projects)) {
    problems.push({ message: `${projects} projects; the ${plan} plan allows ${limits.projects}: delete some first`, limit: "projects", max: limits.projects, current: projects });
  }
  const large = await tx.compute.findMany({
    where: { project: { organizationId }, size: { gt: limits.maxComputeSize }, state: { not: "deleting" } },
    select: { id: true, size: true, project: { select: { slug: true } } },
  });
  for (const c of large) {
    problems.push({
      message: `the compute of project '${c.project.slug}' is ${c.size} CU; the ${plan} plan allows ${limits.maxComputeSize}: resize it first`,
      limit: "maxComputeSize",
      max: limits.maxComputeSize,
      current: c.size,
      computeId: c.id,
    });
  }
  // Storage: each compute's latest hourly sample against the new plan's disk.
  const full = await tx.$queryRaw<{ computeId: string; bytes: bigint }[]>`
    SELECT DISTINCT ON (s."computeId") s."computeId", s.bytes
    FROM "StorageSample" s JOIN "Compute" c ON c.id = s."computeId"
    WHERE s."organizationId" = ${organizationId}
    ORDER BY s."computeId", s."hourStart" DESC`;
  for (const s of full) {
    if (Number(s.bytes) <= limits.storageBytesPerCompute) continue;
    problems.push({
      message: `a compute holds ${s.bytes} bytes; the ${plan} plan's storage is ${limits.storageBytesPerCompute} bytes per compute: free some first`,
      limit: "storageBytesPerCompute",
      max: limits.storageBytesPerCompute,
      current: Number(s.bytes),
      computeId: s.computeId,
    });
  }
  if (problems.length === 0) return;
  throw new AppError("conflict", `the organization does not fit the ${plan} plan: ${problems.map((p) => p.message).join("; ")}`, problems);
}
