import type { Compute } from "../db";
import { getDriver } from "./drivers/registry";
import type { DriverState } from "./drivers/types";

/**
 * Whether a compute recorded `running` has lost its workload (its process died). Only looks: the driver
 * is asked without touching the server (/proc for the local driver), and nothing is written. Recording the
 * crash and restarting are the reconciler's (server/compute/lifecycle/reconcile.ts), at the scheduler's
 * next tick. A driver that cannot tell is taken at the row's word.
 */
export async function workloadGone(compute: Compute): Promise<boolean> {
  if (compute.state !== "running") return false;
  const seen = await getDriver(compute.driver)
    .inspect(compute.id, compute.driverState as DriverState | null)
    .catch(() => null);
  return seen !== null && seen.status !== "running" && seen.status !== "paused";
}
