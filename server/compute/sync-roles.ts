import { db } from "../db";
import { getDriver } from "./drivers/registry";
import { loadComputeSpec } from "./spec";

/**
 * Apply the project's roles to a running compute if they changed since they were last applied. Safe to call
 * at any time from any replica: the version it records is the one it read before applying.
 */
export async function syncRolesIfBehind(computeId: string): Promise<boolean> {
  const compute = await db.compute.findUnique({
    where: { id: computeId },
    select: { state: true, rolesSyncedVersion: true, project: { select: { rolesVersion: true } } },
  });
  if (!compute || compute.state !== "running") return false;
  const target = compute.project.rolesVersion;
  if (compute.rolesSyncedVersion >= target) return false;
  const { spec, driver, driverState } = await loadComputeSpec(computeId);
  await getDriver(driver).syncRoles(computeId, driverState, spec.database, spec.roles);
  await db.compute.updateMany({
    where: { id: computeId, rolesSyncedVersion: { lt: target } },
    data: { rolesSyncedVersion: target },
  });
  return true;
}
