import { db } from "../db";
import type { HeldThread } from "../compute/drivers/types";
import { PROXY_HEARTBEAT_TTL_MS } from "./constants";

/**
 * The compute thread ids live proxies hold open without a client session on them (pooled, or lent between
 * sessions; ProxyActivity.idleThreadIds). The idle check does not count them as sessions: they are the
 * proxies' own, and close when the compute pauses or stops. A dead proxy's are left out: its connections
 * died with it, and any still showing on the server are counted as what they look like.
 */
export async function heldIdleThreads(computeId: string, { ttlMs = PROXY_HEARTBEAT_TTL_MS }: { ttlMs?: number } = {}): Promise<HeldThread[]> {
  const rows = await db.$queryRaw<{ id: number; reportedMsAgo: number }[]>`
    SELECT t.id, MIN(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC' - a."updatedAt")) * 1000)::float8 AS "reportedMsAgo"
    FROM "ProxyActivity" AS a JOIN "ProxyInstance" AS p ON p."id" = a."proxyId"
      CROSS JOIN LATERAL unnest(a."idleThreadIds") AS t(id)
    WHERE a."computeId" = ${computeId}
      AND p."heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond'
    GROUP BY t.id`;
  return rows.map((r) => ({ id: Number(r.id), reportedMsAgo: Math.max(0, Number(r.reportedMsAgo)) }));
}
