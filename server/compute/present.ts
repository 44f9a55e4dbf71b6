import type { Compute } from "../db";
import type { ComputeActivity } from "../proxy-activity/live-activity";

function latest(a: Date | null | undefined, b: Date | null | undefined): Date | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/**
 * The compute reply shape of DESIGN.md (fields may be added, never renamed). With the proxies' activity
 * (liveActivity; presentComputeWithActivity looks it up), activeConnections is the sum over live proxies and
 * lastActiveAt the later of the row's and the proxies'; without it, the row's own (deprecated) count.
 */
export function presentCompute(compute: Compute, activity?: ComputeActivity) {
  const endpoint =
    compute.endpointHost && compute.endpointPort ? { host: compute.endpointHost, port: compute.endpointPort } : null;
  const lastActiveAt = latest(compute.lastActiveAt, activity?.lastActiveAt);
  return {
    id: compute.id,
    projectId: compute.projectId,
    state: compute.state,
    size: compute.size,
    suspendTimeoutSeconds: compute.suspendTimeoutSeconds,
    coldAfterSeconds: compute.coldAfterSeconds,
    driver: compute.driver,
    endpoint,
    activeConnections: activity ? activity.connections : compute.activeConnections,
    lastActiveAt: lastActiveAt?.toISOString() ?? null,
    stateChangedAt: compute.stateChangedAt.toISOString(),
    failureReason: compute.failureReason,
    createdAt: compute.createdAt.toISOString(),
    updatedAt: compute.updatedAt.toISOString(),
  };
}
export type ComputeReply = ReturnType<typeof presentCompute>;
