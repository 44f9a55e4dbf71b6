import { db } from "../db";
import { DEFAULT_DATABASE } from "@/lib/compute-states";
import { PLAN_STORAGE_BYTES } from "../quotas/quotas";
import type { ComputeSpec, DriverState } from "./drivers/types";

/** What the driver needs to run a compute, read fresh from the database (roles included). */
export async function loadComputeSpec(computeId: string): Promise<{
  spec: ComputeSpec;
  driver: string;
  driverState: DriverState | null;
  /** The project's roles version the spec's roles are at (a start applies them all). */
  rolesVersion: number;
  /** The compute's owner and size, as a transition's bookkeeping needs them. */
  owner: { id: string; projectId: string; organizationId: string; size: number };
}> {
  const compute = await db.compute.findUniqueOrThrow({
    where: { id: computeId },
    select: {
      id: true,
      projectId: true,
      size: true,
      driver: true,
      driverState: true,
      project: { select: { id: true, slug: true, rolesVersion: true, organizationId: true, organization: { select: { plan: true } }, roles: { select: { name: true, passwordHash: true }, orderBy: { name: "asc" } } } },
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
    rolesVersion: compute.project.rolesVersion,
    owner: { id: compute.id, projectId: compute.projectId, organizationId: compute.project.organizationId, size: compute.size },
  };
}
