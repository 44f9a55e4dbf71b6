import type { Compute } from "../db";
import type { ComputeActivity } from "../proxy-activity/live-activity";
import { presentPooling } from "./present-pooling";

/**
 * The compute's client sessions as live proxies report them (issue 14): attached and working (`active`),
 * parked (socket kept, no compute connection) and pinned (idle, but holding what cannot be rebuilt), with
 * the pin reasons. activeConnections stays active + pinned.
 */
export function presentSessions(activity: ComputeActivity | undefined, now = Date.now()) {
  if (!activity) return { active: 0, parked: 0, pinned: 0, pins: [] };
  return {
    active: Math.max(0, activity.connections - activity.pinned),
    parked: activity.parked,
    pinned: activity.pinned,
    pins: activity.pins.map((pin) => ({
      reason: pin.reason,
      sessions: pin.sessions,
      idleSeconds: Math.max(0, Math.floor((now - pin.idleSince.getTime()) / 1000)),
    })),
  };
}
export type SessionsReply = ReturnType<typeof presentSessions>;

function latest(a: Date | null | undefined, b: Date | null | undefined): Date | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/**
 * The compute reply shape of DESIGN.md (fields may be added, never renamed). With the proxies' activity
 * (liveActivity; presentComputeWithActivity looks it up), activeConnections is the sum over live proxies and
 * lastActiveAt the later of the row's and the proxies'; without it, the row's own (deprecated) count.
 *
 * A compute is never shown `running` while its workload is gone (`workloadGone`, found by a read that
 * changes nothing): it is shown `resuming`, without an endpoint, because that is what the reconciler makes
 * of it at the scheduler's next tick (a restart, recorded as restart_compute; after repeated crashes it is
 * marked `failed` instead, and shown so from then on).
 */
export function presentCompute(compute: Compute, activity?: ComputeActivity, { workloadGone = false } = {}) {
  const endpoint =
    !workloadGone && compute.endpointHost && compute.endpointPort ? { host: compute.endpointHost, port: compute.endpointPort } : null;
  const lastActiveAt = latest(compute.lastActiveAt, activity?.lastActiveAt);
  return {
    id: compute.id,
    projectId: compute.projectId,
    state: workloadGone ? ("resuming" as const) : compute.state,
    /** The row says `running` but its process is gone; the reconciler restarts it. */
    workloadGone,
    size: compute.size,
    suspendTimeoutSeconds: compute.suspendTimeoutSeconds,
    coldAfterSeconds: compute.coldAfterSeconds,
    parkIdleSessions: compute.parkIdleSessions,
    parkAfterSeconds: compute.parkAfterSeconds,
    poolConnections: compute.poolConnections,
    driver: compute.driver,
    endpoint,
    activeConnections: activity ? activity.connections : compute.activeConnections,
    sessions: presentSessions(activity),
    pooling: presentPooling(compute.poolConnections, activity),
    lastActiveAt: lastActiveAt?.toISOString() ?? null,
    stateChangedAt: compute.stateChangedAt.toISOString(),
    failureReason: compute.failureReason,
    createdAt: compute.createdAt.toISOString(),
    updatedAt: compute.updatedAt.toISOString(),
  };
}
export type ComputeReply = ReturnType<typeof presentCompute>;
