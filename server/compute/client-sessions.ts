import type { Compute } from "../db";
import { heldIdleThreads } from "../proxy-activity/held-threads";
import { getDriver } from "./drivers/registry";
import type { DriverState } from "./drivers/types";

/**
 * The sessions on the compute's server that are someone's (the idle check's question, issue 14): the
 * driver's user sessions less the threads live proxies report holding without a client (pooled or lent).
 * Parked sessions have no thread at all; pinned ones have theirs, and count. Throws when the server cannot
 * be asked.
 */
export async function countClientSessions(compute: Pick<Compute, "id" | "driver" | "driverState">): Promise<number> {
  const held = await heldIdleThreads(compute.id);
  return getDriver(compute.driver).countUserSessions(compute.id, compute.driverState as DriverState | null, held);
}
