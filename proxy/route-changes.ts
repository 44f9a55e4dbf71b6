import { z } from "zod";
import type { WakeRow } from "@/server/compute/lifecycle/wake";

// What PostgreSQL tells the proxies when something a route holds changes (the triggers of migration
// route_change_notify, on the channel ROUTES_CHANGED_CHANNEL): a compute's row as committed, or which
// project or organization to look up again, or everything. proxy/routing.ts applies them to its cache.

export const ROUTES_CHANGED_CHANNEL = "msl_routes_changed";

const ComputeColumns = z.object({
  id: z.string(),
  state: z.enum(["provisioning", "running", "suspending", "suspended", "resuming", "paused", "failed", "deleting"]),
  version: z.number().int(),
  size: z.number(),
  driver: z.string(),
  driverState: z.unknown(),
  endpointHost: z.string().nullable(),
  endpointPort: z.number().int().nullable(),
  endpointSocket: z.string().nullable(),
  rolesSyncedVersion: z.number().int(),
  failureReason: z.string().nullable(),
  parkIdleSessions: z.boolean(),
  parkAfterSeconds: z.number().int().nullable(),
  suspendTimeoutSeconds: z.number().int(),
  poolConnections: z.boolean(),
});

const Payload = z.union([
  z.object({ p: z.string(), c: ComputeColumns }),
  z.object({ p: z.string() }),
  z.object({ o: z.string() }),
  z.object({ all: z.literal(true) }),
]);

export type ComputeColumns = z.infer<typeof ComputeColumns>;

export type RouteChange =
  | { kind: "compute"; projectId: string; columns: ComputeColumns }
  | { kind: "project"; projectId: string }
  | { kind: "organization"; organizationId: string }
  | { kind: "all" };

/** The change a notification announces; anything unreadable is "all" (drop everything: never keep a route it may concern). */
export function parseRouteChange(payload: string): RouteChange {
  let parsed: z.infer<typeof Payload>;
  try {
    parsed = Payload.parse(JSON.parse(payload));
  } catch {
    return { kind: "all" };
  }
  if ("c" in parsed) return { kind: "compute", projectId: parsed.p, columns: parsed.c };
  if ("p" in parsed) return { kind: "project", projectId: parsed.p };
  if ("o" in parsed) return { kind: "organization", organizationId: parsed.o };
  return { kind: "all" };
}

/** The compute row a route holds, as a change says it now is. */
export function wakeRowOf(projectId: string, c: ComputeColumns): WakeRow {
  return {
    id: c.id,
    projectId,
    state: c.state,
    version: c.version,
    size: c.size,
    driver: c.driver,
    driverState: (c.driverState ?? null) as WakeRow["driverState"],
    endpointHost: c.endpointHost,
    endpointPort: c.endpointPort,
    endpointSocket: c.endpointSocket,
    rolesSyncedVersion: c.rolesSyncedVersion,
    failureReason: c.failureReason,
  };
}
