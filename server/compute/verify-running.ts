import type { Compute } from "../db";
import { getDriver } from "./drivers/registry";
import { getComputeById } from "./find-compute";
import { noteCrash } from "./reconcile";
import type { DriverState } from "./drivers/types";

/**
 * A compute is never shown `running` while its process is gone: before a `running` row is shown, the
 * driver is asked (without touching the server: /proc for the local driver) whether its workload is up.
 * If it is not, the crash is put on the row now (`resuming` with a restart_compute operation, or `failed`
 * after repeated crashes) and that row is shown; the restart itself is the scheduler's, off this request:
 * a status read never starts anything.
 */
export async function verifyRunning(compute: Compute): Promise<Compute> {
  if (compute.state !== "running") return compute;
  const seen = await getDriver(compute.driver)
    .inspect(compute.id, compute.driverState as DriverState | null)
    .catch(() => null);
  if (!seen || seen.status === "running" || seen.status === "paused") return compute;
  await noteCrash(compute);
  return getComputeById(compute.id);
}
