import type { Compute } from "../db";
import { getDriver } from "./drivers/registry";
import { getComputeById } from "./find-compute";
import { reconcileCompute } from "./reconcile";
import type { DriverState } from "./drivers/types";

/**
 * A compute is never shown `running` while its process is gone: before a `running` row is shown, the
 * driver is asked (without touching the server: /proc for the local driver) whether its workload is up.
 * If it is not, the reconciler handles the crash now instead of at its next tick, and the row it leaves
 * (restarted, or failed) is what is shown.
 */
export async function verifyRunning(compute: Compute): Promise<Compute> {
  if (compute.state !== "running") return compute;
  const seen = await getDriver(compute.driver)
    .inspect(compute.id, compute.driverState as DriverState | null)
    .catch(() => null);
  if (!seen || seen.status === "running" || seen.status === "paused") return compute;
  await reconcileCompute(compute.id);
  return getComputeById(compute.id);
}
