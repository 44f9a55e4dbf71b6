import type { Compute } from "../db";

/** The compute reply shape of DESIGN.md (fields may be added, never renamed). */
export function presentCompute(compute: Compute) {
  const endpoint =
    compute.endpointHost && compute.endpointPort ? { host: compute.endpointHost, port: compute.endpointPort } : null;
  return {
    id: compute.id,
    projectId: compute.projectId,
    state: compute.state,
    size: compute.size,
    suspendTimeoutSeconds: compute.suspendTimeoutSeconds,
    coldAfterSeconds: compute.coldAfterSeconds,
    driver: compute.driver,
    endpoint,
    activeConnections: compute.activeConnections,
    lastActiveAt: compute.lastActiveAt?.toISOString() ?? null,
    stateChangedAt: compute.stateChangedAt.toISOString(),
    failureReason: compute.failureReason,
    createdAt: compute.createdAt.toISOString(),
    updatedAt: compute.updatedAt.toISOString(),
  };
}
export type ComputeReply = ReturnType<typeof presentCompute>;
