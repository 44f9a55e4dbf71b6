import { db } from "../db";
import { PROXY_HEARTBEAT_TTL_MS } from "./constants";

/**
 * The compute thread ids live proxies hold open without a client session on them (pooled, or lent between
 * sessions; ProxyActivity.idleThreadIds). The idle check does not count them as sessions: they are the
 * proxies' own, and close when the compute pauses or stops. A dead proxy's are left out: its connections
 * died with it, and any still showing on the server are counted as what they look like.
 */
export async function heldIdleThreads(computeId: string, { ttlMs = PROXY_HEARTBEAT_TTL_MS }: { ttlMs?: number } = {}): Promise<number[]> {
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT DISTINCT unnest(a."idleThreadIds") AS id
    FROM "ProxyActivity" AS a JOIN "ProxyInstance" AS p ON p."id" = a."proxyId"
    WHERE a."computeId" = ${computeId}
      AND p."heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond'`;
  return rows.map((r) => Number(r.id));
}
