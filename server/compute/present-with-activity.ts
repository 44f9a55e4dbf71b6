import { db } from "../db";
import { PLAN_STORAGE_BYTES } from "../quotas/quotas";
import { liveActivity } from "../proxy-activity/live-activity";
import { getDriver } from "./drivers/registry";
import { presentCompute, type ComputeReply } from "./present";
import { verifyRunning } from "./verify-running";
import type { Compute } from "../db";
import type { DriverState } from "./drivers/types";

export interface StorageReply {
  /** Bytes the compute's storage holds now (null where the driver cannot tell). */
  usedBytes: number | null;
  /** Its plan's disk limit. */
  limitBytes: number;
}

/**
 * presentCompute with the proxies' live connection count and last activity, for a row whose `running` has
 * been checked against its workload (verifyRunning), and its storage: used bytes as the driver measures
 * them (the local driver asks its file system, never the server) against the plan's limit.
 */
export async function presentComputeWithActivity(row: Compute): Promise<ComputeReply & { storage: StorageReply }> {
  const compute = await verifyRunning(row);
  const [activity, storage] = await Promise.all([liveActivity([compute.id]), storageOf(compute)]);
  return { ...presentCompute(compute, activity.get(compute.id)), storage };
}

async function storageOf(compute: Compute): Promise<StorageReply> {
  const [usedBytes, project] = await Promise.all([
    getDriver(compute.driver)
      .storageBytes?.(compute.id, compute.driverState as DriverState | null)
      .catch(() => null) ?? null,
    db.project.findUnique({ where: { id: compute.projectId }, select: { organization: { select: { plan: true } } } }),
  ]);
  return { usedBytes, limitBytes: PLAN_STORAGE_BYTES[project?.organization.plan ?? "free"] };
}
