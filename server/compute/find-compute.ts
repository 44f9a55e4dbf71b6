import { db } from "../db";
import { notFound } from "../errors";
import { authorize, type Caller } from "../tenancy/caller";

/** A compute the caller may see (another tenant's compute is a 404, the same as a missing one). */
export async function findCompute({ organizationIds, computeId }: { organizationIds: string[]; computeId: string }) {
  const compute = await db.compute.findFirst({
    where: { id: computeId, project: { organizationId: { in: organizationIds } } },
  });
  if (!compute) throw notFound("compute");
  return compute;
}

export async function getComputeById(computeId: string) {
  const compute = await db.compute.findUnique({ where: { id: computeId } });
  if (!compute) throw notFound("compute");
  return compute;
}

/**
 * A compute the caller may change (suspend, resume, settings, delete): 404 when it cannot see it, 403 when
 * its role in the compute's organization is below member.
 */
export async function findComputeToChange({ caller, computeId }: { caller: Caller; computeId: string }) {
  const compute = await db.compute.findFirst({
    where: { id: computeId, project: { organizationId: { in: caller.organizationIds } } },
    include: { project: { select: { organizationId: true } } },
  });
  if (!compute) throw notFound("compute");
  authorize(caller, compute.project.organizationId, "projects.write");
  const { project: _project, ...row } = compute;
  return row;
}
