import { db } from "../db";
import type { ProxyInstance } from "../db";
import { PROXY_HEARTBEAT_TTL_MS, PROXY_PRUNE_AFTER_MS } from "./constants";

// The proxy processes and their heartbeats. Heartbeats are written and judged with the database's clock
// (`now() AT TIME ZONE 'UTC'`, the UTC wall time Prisma keeps in its timestamp columns), so proxies on hosts
// whose clocks disagree are treated alike.

export interface ProxyInstanceInput {
  /** Random, picked by the proxy at start. */
  id: string;
  host: string;
  pid: number;
  version?: string | null;
}

/** Record a proxy as live. Idempotent: registering again (after it was pruned) refreshes the row. */
export async function registerProxyInstance({ id, host, pid, version = null }: ProxyInstanceInput): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "ProxyInstance" ("id", "host", "pid", "version", "startedAt", "heartbeatAt")
    VALUES (${id}, ${host}, ${pid}, ${version}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
    ON CONFLICT ("id") DO UPDATE
      SET "host" = EXCLUDED."host", "pid" = EXCLUDED."pid", "version" = EXCLUDED."version", "heartbeatAt" = EXCLUDED."heartbeatAt"`;
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
    SELECT "id", "host", "pid", "version", "startedAt", "heartbeatAt" FROM "ProxyInstance"
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
