import { db } from "../db";
import { DEFAULT_DATABASE } from "@/lib/compute-states";
import { PLAN_STORAGE_BYTES } from "../quotas/quotas";
import type { ComputeSpec, DriverState } from "./drivers/types";

/** What the driver needs to run a compute, read fresh from the database (roles included). */
export async function loadComputeSpec(computeId: string): Promise<{
  spec: ComputeSpec;
  driver: string;
  driverState: DriverState | null;
}> {
  const compute = await db.compute.findUniqueOrThrow({
    where: { id: computeId },
    select: {
      id: true,
      size: true,
      driver: true,
      driverState: true,
      project: { select: { id: true, slug: true, organizationId: true, organization: { select: { plan: true } }, roles: { select: { name: true, passwordHash: true }, orderBy: { name: "asc" } } } },
    },
  });
  return {
    spec: {
      computeId: compute.id,
      projectSlug: compute.project.slug,
      database: DEFAULT_DATABASE,
      size: compute.size,
      roles: compute.project.roles,
      storageLimitBytes: PLAN_STORAGE_BYTES[compute.project.organization.plan],
      organizationId: compute.project.organizationId,
      projectId: compute.project.id,
      plan: compute.project.organization.plan,
    },
    driver: compute.driver,
    driverState: (compute.driverState as DriverState | null) ?? null,
  };
}
