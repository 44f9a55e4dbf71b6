import { db } from "../db";
import { DEFAULT_DATABASE } from "@/lib/compute-states";
import { PLAN_STORAGE_BYTES } from "../quotas/quotas";
import type { Plan } from "../db/generated/enums";
import type { ComputeSpec, DriverState, RoleSpec } from "./drivers/types";

/** What a start needs: the driver's spec, and the facts its bookkeeping records. */
export interface LoadedSpec {
  spec: ComputeSpec;
  driver: string;
  driverState: DriverState | null;
  /** The project's roles version the spec's roles are at (a start applies them all). */
  rolesVersion: number;
}

/** The columns a spec is made of, however they were read (here, or with the cold start's move: begin-start.ts). */
export interface SpecColumns {
  id: string;
  projectId: string;
  size: number;
  driver: string;
  driverState: unknown;
  slug: string;
  rolesVersion: number;
  organizationId: string;
  plan: Plan;
  roles: RoleSpec[];
}

export function specOf(c: SpecColumns): LoadedSpec {
  return {
    spec: {
      computeId: c.id,
      projectSlug: c.slug,
      database: DEFAULT_DATABASE,
      size: c.size,
      roles: c.roles,
      storageLimitBytes: PLAN_STORAGE_BYTES[c.plan],
      organizationId: c.organizationId,
      projectId: c.projectId,
      plan: c.plan,
    },
    driver: c.driver,
    driverState: (c.driverState as DriverState | null) ?? null,
    rolesVersion: c.rolesVersion,
  };
}

/** What the driver needs to run a compute, read fresh from the database (roles included). */
export async function loadComputeSpec(computeId: string): Promise<LoadedSpec> {
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
  const { project } = compute;
  return specOf({
    ...compute,
    slug: project.slug,
    rolesVersion: project.rolesVersion,
    organizationId: project.organizationId,
    plan: project.organization.plan,
    roles: project.roles,
  });
}
