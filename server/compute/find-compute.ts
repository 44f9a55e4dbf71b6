import { db } from "../db";
import { notFound } from "../errors";

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
