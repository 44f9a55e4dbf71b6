import type { Compute } from "../db";

// Where a running compute takes connections. The state machine records it with the `running` state (the
// TCP endpoint a user is given, and the server's Unix socket on its machine when the driver has one), so a
// reader of the row - the proxy above all - never has to ask the driver.

export interface ComputeAddress {
  host: string;
  port: number;
  /** The same server's Unix socket on its machine (the local driver), or null. */
  socketPath: string | null;
}

/** The row's address while it is running; null in any other state or without an endpoint. */
export function runningAddress(row: Pick<Compute, "state" | "endpointHost" | "endpointPort" | "endpointSocket">): ComputeAddress | null {
  if (row.state !== "running" || !row.endpointHost || !row.endpointPort) return null;
  return { host: row.endpointHost, port: row.endpointPort, socketPath: row.endpointSocket };
}
