import { db } from "../db";
import { PROXY_HEARTBEAT_TTL_MS } from "./constants";
import { mergePinSummaries, type PinSummary } from "./pins";

/** What the proxies know of one compute's clients. */
export interface ComputeActivity {
  /** Client sessions attached through live proxies (heartbeat within the TTL), pinned ones included. */
  connections: number;
  /** Client sessions live proxies hold parked (no compute connection). */
  parked: number;
  /** Of `connections`, the sessions that cannot park. */
  pinned: number;
  /** Why they cannot park, summed over live proxies by reason. */
  pins: PinSummary[];
  /** The latest activity reported by any proxy, live or dead; null when none reported any. */
  lastActiveAt: Date | null;
  /** The live proxies' pools of the compute's server connections (issue 15), summed. */
  pool: PoolActivity;
}

/** Pool snapshots (proxy/pool-snapshot.ts) summed over live proxies; longestWaitMs is the longest of theirs. */
export interface PoolActivity {
  serverInUse: number;
  serverIdle: number;
  serverLimit: number;
  queued: number;
  longestWaitMs: number;
  /** Since each proxy started: waits that ended, their summed time, and those that ran out. */
  waits: number;
  waitMsTotal: number;
  timeouts: number;
}

export const NO_POOL_ACTIVITY: Readonly<PoolActivity> = Object.freeze({
  serverInUse: 0,
  serverIdle: 0,
  serverLimit: 0,
  queued: 0,
  longestWaitMs: 0,
  waits: 0,
  waitMsTotal: 0,
  timeouts: 0,
});

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
  const result = new Map<string, ComputeActivity>(
    ids.map((id) => [id, { connections: 0, lastActiveAt: null, parked: 0, pinned: 0, pins: [], pool: { ...NO_POOL_ACTIVITY } }]),
  );
  if (ids.length === 0) return result;
  const rows = await db.$queryRaw<
    ({ computeId: string; connections: number; lastActiveAt: Date | null; parked: number; pinned: number; pins: StoredPin[][] | null } & PoolActivity)[]
  >`
    WITH a AS (
      SELECT a.*, p."heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond' AS live
      FROM "ProxyActivity" AS a JOIN "ProxyInstance" AS p ON p."id" = a."proxyId"
      WHERE a."computeId" = ANY(${ids}::text[])
    )
    SELECT a."computeId",
           COALESCE(SUM(a."connections") FILTER (WHERE a.live), 0)::int AS "connections",
           MAX(a."lastActiveAt") AS "lastActiveAt",
           COALESCE(SUM(a."parked") FILTER (WHERE a.live), 0)::int AS "parked",
           COALESCE(SUM(a."pinned") FILTER (WHERE a.live), 0)::int AS "pinned",
           jsonb_agg(a."pins") FILTER (WHERE a.live AND a."pinned" > 0) AS "pins",
           COALESCE(SUM(a."poolServerInUse") FILTER (WHERE a.live), 0)::int AS "serverInUse",
           COALESCE(SUM(a."poolServerIdle") FILTER (WHERE a.live), 0)::int AS "serverIdle",
           COALESCE(SUM(a."poolServerLimit") FILTER (WHERE a.live), 0)::int AS "serverLimit",
           COALESCE(SUM(a."poolQueued") FILTER (WHERE a.live), 0)::int AS "queued",
           COALESCE(MAX(a."poolLongestWaitMs") FILTER (WHERE a.live), 0)::int AS "longestWaitMs",
           COALESCE(SUM(a."poolWaits") FILTER (WHERE a.live), 0)::float8 AS "waits",
           COALESCE(SUM(a."poolWaitMsTotal") FILTER (WHERE a.live), 0)::float8 AS "waitMsTotal",
           COALESCE(SUM(a."poolTimeouts") FILTER (WHERE a.live), 0)::float8 AS "timeouts"
    FROM a
    GROUP BY a."computeId"`;
  for (const row of rows) {
    result.set(row.computeId, {
      connections: Number(row.connections),
      lastActiveAt: row.lastActiveAt === null ? null : new Date(row.lastActiveAt),
      parked: Number(row.parked),
      pinned: Number(row.pinned),
      pins: mergePinSummaries((row.pins ?? []).map((list) => list.map((p) => ({ ...p, idleSince: new Date(p.idleSince) })))),
      pool: {
        serverInUse: Number(row.serverInUse),
        serverIdle: Number(row.serverIdle),
        serverLimit: Number(row.serverLimit),
        queued: Number(row.queued),
        longestWaitMs: Number(row.longestWaitMs),
        waits: Number(row.waits),
        waitMsTotal: Number(row.waitMsTotal),
        timeouts: Number(row.timeouts),
      },
    });
  }
  return result;
}

/** A pin summary as ProxyActivity.pins holds it. */
interface StoredPin {
  reason: string;
  sessions: number;
  idleSince: string;
}
