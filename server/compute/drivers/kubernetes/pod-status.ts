import type { V1Pod } from "@kubernetes/client-node";

// What a compute pod's status says, read the way the driver needs it.

export function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") && !pod.metadata?.deletionTimestamp;
}

export function restartCount(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
}

// Waiting reasons after which the pod will not become Ready by itself.
const FATAL_WAITING = new Set([
  "CrashLoopBackOff",
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

/**
 * Why the pod cannot serve (its server exited or cannot be started), or null while it may still become
 * Ready. The text is for the tenant (the failed operation): no node names or internals.
 */
export function podFailure(pod: V1Pod): string | null {
  if (pod.status?.phase === "Failed") return "the MariaDB server's pod failed";
  for (const c of pod.status?.containerStatuses ?? []) {
    // A container that exited is restarted by the kubelet (restartPolicy Always): only its giving up for
    // now (CrashLoopBackOff) or a container that cannot be made at all is a failure.
    const waiting = c.state?.waiting?.reason;
    if (!waiting || !FATAL_WAITING.has(waiting)) continue;
    if (/Image/.test(waiting)) return "the MariaDB server's image could not be pulled; contact support";
    if (c.lastState?.terminated?.reason === "OOMKilled") {
      return "the MariaDB server ran out of memory while starting; choose a larger compute size";
    }
    return "the MariaDB server stopped while starting; try again, and contact support if it keeps failing";
  }
  return null;
}
