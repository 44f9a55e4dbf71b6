import { db } from "../db";
import { PLAN_STORAGE_BYTES } from "../quotas/quotas";
import { liveActivity } from "../proxy-activity/live-activity";
import { getDriver } from "./drivers/registry";
import { presentCompute, type ComputeReply } from "./present";
import { workloadGone } from "./workload-gone";
import type { Compute } from "../db";
import type { DriverState } from "./drivers/types";

export interface StorageReply {
  /** Bytes the compute's storage holds now (null where the driver cannot tell). */
  usedBytes: number | null;
  /** Its plan's disk limit. */
  limitBytes: number;
}

/**
 * presentCompute with the proxies' live connection count and last activity, whether a `running` row's
 * workload is still there (workloadGone), and its storage: used bytes as the driver measures them (the
 * local driver asks its file system, never the server) against the plan's limit. Reads only: a status read
 * changes nothing, neither the compute nor its row.
 */
export async function presentComputeWithActivity(compute: Compute): Promise<ComputeReply & { storage: StorageReply }> {
  const [gone, activity, storage] = await Promise.all([workloadGone(compute), liveActivity([compute.id]), storageOf(compute)]);
  return { ...presentCompute(compute, activity.get(compute.id), { workloadGone: gone }), storage };
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
