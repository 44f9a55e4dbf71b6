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

type AddressColumns = Pick<Compute, "endpointHost" | "endpointPort" | "endpointSocket">;

/** The address recorded on the row, whatever its state (a paused compute keeps its frozen server's). */
export function recordedAddress(row: AddressColumns): ComputeAddress | null {
  if (!row.endpointHost || !row.endpointPort) return null;
  return { host: row.endpointHost, port: row.endpointPort, socketPath: row.endpointSocket };
}

/** The row's address while it is running; null in any other state or without an endpoint. */
export function runningAddress(row: AddressColumns & Pick<Compute, "state">): ComputeAddress | null {
  return row.state === "running" ? recordedAddress(row) : null;
}
