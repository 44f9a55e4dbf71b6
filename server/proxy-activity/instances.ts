import { db } from "../db";
import type { ProxyInstance } from "../db";
import { PROXY_HEARTBEAT_TTL_MS, PROXY_PRUNE_AFTER_MS, PROXY_SLOTS } from "./constants";

// The proxy processes and their heartbeats. Heartbeats are written and judged with the database's clock
// (`now() AT TIME ZONE 'UTC'`, the UTC wall time Prisma keeps in its timestamp columns), so proxies on hosts
// whose clocks disagree are treated alike.

export interface ProxyInstanceInput {
  /** Random, picked by the proxy at start. */
  id: string;
  host: string;
  pid: number;
  version?: string | null;
  /** The slot to keep if it is still free (registering again after the row was pruned). */
  preferredSlot?: number | null;
}

const UNIQUE_VIOLATION = "23505";

/**
 * Record a proxy as live and give it a slot (its block of client connection ids) no other proxy holds.
 * Idempotent: registering again (after it was pruned) refreshes the row and keeps a free preferred slot.
 */
export async function registerProxyInstance({ id, host, pid, version = null, preferredSlot = null }: ProxyInstanceInput): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      // The preferred slot if free, else a random free one (proxies starting together rarely pick the same;
      // when they do, they collide on the unique index and the loser tries again). Slot 0 is never given:
      // its ids would look like the small thread ids of the computes.
      const rows = await db.$queryRaw<{ slot: number | null }[]>`
        INSERT INTO "ProxyInstance" ("id", "host", "pid", "version", "startedAt", "heartbeatAt", "slot")
        VALUES (${id}, ${host}, ${pid}, ${version}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', (
          SELECT s FROM generate_series(1, ${PROXY_SLOTS - 1}::int) AS s
          WHERE NOT EXISTS (SELECT 1 FROM "ProxyInstance" AS p WHERE p."slot" = s)
          ORDER BY s = ${preferredSlot ?? -1}::int DESC, random()
          LIMIT 1))
        ON CONFLICT ("id") DO UPDATE
          SET "host" = EXCLUDED."host", "pid" = EXCLUDED."pid", "version" = EXCLUDED."version", "heartbeatAt" = EXCLUDED."heartbeatAt",
              "slot" = COALESCE("ProxyInstance"."slot", EXCLUDED."slot")
        RETURNING "slot"`;
      const slot = rows[0]?.slot;
      if (slot === null || slot === undefined) throw new Error(`all ${PROXY_SLOTS} proxy slots are taken`);
      return slot;
    } catch (error) {
      const code = (error as { code?: unknown; meta?: { code?: unknown } }).meta?.code ?? (error as { code?: unknown }).code;
      if (attempt < 20 && (code === UNIQUE_VIOLATION || String(error).includes(UNIQUE_VIOLATION))) continue;
      throw error;
    }
  }
}

/**
 * Mark a proxy alive now. False when its row is gone (pruned after a long silence): the proxy must register
 * again and report all its activity, which went with the row.
 */
export async function heartbeat(id: string): Promise<boolean> {
  const updated = await db.$executeRaw`
    UPDATE "ProxyInstance" SET "heartbeatAt" = now() AT TIME ZONE 'UTC' WHERE "id" = ${id}`;
  return updated > 0;
}

/** A proxy that shuts down: its row and (by cascade) its activity rows are deleted. */
export async function unregisterProxyInstance(id: string): Promise<void> {
  await db.proxyInstance.deleteMany({ where: { id } });
}

/** The proxies whose heartbeat is within ttlMs, oldest first. */
export async function liveProxies({ ttlMs = PROXY_HEARTBEAT_TTL_MS }: { ttlMs?: number } = {}): Promise<ProxyInstance[]> {
  return db.$queryRaw<ProxyInstance[]>`
    SELECT "id", "host", "pid", "version", "startedAt", "heartbeatAt", "slot" FROM "ProxyInstance"
    WHERE "heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond'
    ORDER BY "startedAt", "id"`;
}

/**
 * For the scheduler: delete the proxies silent for olderThanMs (at least the heartbeat TTL) with their
 * activity rows, and the activity rows of computes that no longer exist. What the rows knew of activity is
 * already in Compute.lastActiveAt (reportActivity advances it).
 */
export async function pruneDeadProxies(olderThanMs: number = PROXY_PRUNE_AFTER_MS): Promise<{ proxies: number; activities: number }> {
  const ms = Math.round(Math.max(olderThanMs, PROXY_HEARTBEAT_TTL_MS));
  const proxies = await db.$executeRaw`
    DELETE FROM "ProxyInstance"
    WHERE "heartbeatAt" < now() AT TIME ZONE 'UTC' - ${ms}::int * interval '1 millisecond'`;
  const activities = await db.$executeRaw`
    DELETE FROM "ProxyActivity" AS a
    WHERE NOT EXISTS (SELECT 1 FROM "Compute" AS c WHERE c."id" = a."computeId")`;
  return { proxies, activities };
}
