import type { ComputeActivity } from "../proxy-activity/live-activity";

/**
 * The compute's connection pooling as the status shows it (issue 15), summed over live proxies: whether it
 * is on (the compute's switch), its client sessions (attached, pinned ones included, and parked), the server
 * connections the proxies hold (carrying a command or transaction, idle) against their limits, and the
 * clients waiting for one. averageWaitMs and timeouts cover the waits that ended since each live proxy
 * started; longestWaitMs is the longest wait of a client still waiting.
 */
export function presentPooling(enabled: boolean, activity: ComputeActivity | undefined) {
  const pool = activity?.pool;
  return {
    enabled,
    clientSessions: activity ? activity.connections + activity.parked : 0,
    serverConnections: { inUse: pool?.serverInUse ?? 0, idle: pool?.serverIdle ?? 0, limit: pool?.serverLimit ?? 0 },
    queue: {
      waiting: pool?.queued ?? 0,
      longestWaitMs: pool?.longestWaitMs ?? 0,
      averageWaitMs: pool && pool.waits > 0 ? Math.round(pool.waitMsTotal / pool.waits) : 0,
      timeouts: pool?.timeouts ?? 0,
    },
  };
}
export type PoolingReply = ReturnType<typeof presentPooling>;
