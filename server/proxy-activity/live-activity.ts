import { db } from "../db";
import { PROXY_HEARTBEAT_TTL_MS } from "./constants";

/** What the proxies know of one compute's clients. */
export interface ComputeActivity {
  /** Connections open through live proxies (heartbeat within the TTL). */
  connections: number;
  /** The latest activity reported by any proxy, live or dead; null when none reported any. */
  lastActiveAt: Date | null;
}

/**
 * The activity of each given compute (every id is in the map; {0, null} when no proxy reported it): open
 * connections summed over live proxies only, since a dead proxy's clients are gone with it, and the latest
 * activity over all proxies, since a dead proxy's last activity still happened.
 */
export async function liveActivity(
  computeIds: string[],
  { ttlMs = PROXY_HEARTBEAT_TTL_MS }: { ttlMs?: number } = {},
): Promise<Map<string, ComputeActivity>> {
  const ids = [...new Set(computeIds)];
  const result = new Map<string, ComputeActivity>(ids.map((id) => [id, { connections: 0, lastActiveAt: null }]));
  if (ids.length === 0) return result;
  const rows = await db.$queryRaw<{ computeId: string; connections: number; lastActiveAt: Date | null }[]>`
    SELECT a."computeId",
           COALESCE(SUM(a."connections") FILTER (
             WHERE p."heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond'
           ), 0)::int AS "connections",
           MAX(a."lastActiveAt") AS "lastActiveAt"
    FROM "ProxyActivity" AS a JOIN "ProxyInstance" AS p ON p."id" = a."proxyId"
    WHERE a."computeId" = ANY(${ids}::text[])
    GROUP BY a."computeId"`;
  for (const row of rows) {
    result.set(row.computeId, {
      connections: Number(row.connections),
      lastActiveAt: row.lastActiveAt === null ? null : new Date(row.lastActiveAt),
    });
  }
  return result;
}
