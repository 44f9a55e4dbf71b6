import { db } from "../db";

export interface ActivityEntry {
  computeId: string;
  /** Client connections open through this proxy now (0 is kept, so lastActiveAt survives). */
  connections: number;
  /** The last query, connection opening or closing through this proxy. */
  lastActiveAt: Date;
}

export interface ReportActivityOptions {
  /** Computes whose rows this proxy deletes after this report (only rows with 0 connections are deleted). */
  forget?: string[];
}

/**
 * One proxy's report, in one transaction: upsert its (proxy, compute) rows, advance Compute.lastActiveAt to
 * the reported time where that is later (computes that no longer exist are skipped), and delete the rows it
 * forgets. lastActiveAt never moves back, neither on the row nor on the compute.
 */
export async function reportActivity(proxyId: string, entries: ActivityEntry[], { forget = [] }: ReportActivityOptions = {}): Promise<void> {
  // One row per compute (ON CONFLICT may not touch a row twice): the latest time, the last count given.
  const byCompute = new Map<string, { connections: number; lastActiveAt: number }>();
  for (const entry of entries) {
    const time = entry.lastActiveAt.getTime();
    if (!entry.computeId || !Number.isFinite(time)) throw new TypeError(`invalid activity entry for compute "${entry.computeId}"`);
    const connections = Math.max(0, Math.trunc(entry.connections) || 0);
    const seen = byCompute.get(entry.computeId);
    byCompute.set(entry.computeId, { connections, lastActiveAt: Math.max(time, seen?.lastActiveAt ?? time) });
  }
  // Sorted, so concurrent reports from several proxies lock the same compute rows in the same order.
  const ids = [...byCompute.keys()].sort();
  const forgotten = [...new Set(forget)].sort();
  if (ids.length === 0 && forgotten.length === 0) return;

  const connections = ids.map((id) => byCompute.get(id)!.connections);
  // ISO strings cast to timestamp(3): the zone is dropped, leaving the UTC wall time Prisma stores.
  const times = ids.map((id) => new Date(byCompute.get(id)!.lastActiveAt).toISOString());
  const now = new Date().toISOString();

  const statements = [];
  if (ids.length > 0) {
    statements.push(db.$executeRaw`
      INSERT INTO "ProxyActivity" ("proxyId", "computeId", "connections", "lastActiveAt", "updatedAt")
      SELECT ${proxyId}, e."computeId", e."connections", e."lastActiveAt", ${now}::timestamp(3)
      FROM unnest(${ids}::text[], ${connections}::int[], ${times}::timestamp(3)[]) AS e("computeId", "connections", "lastActiveAt")
      ORDER BY e."computeId"
      ON CONFLICT ("proxyId", "computeId") DO UPDATE
        SET "connections" = EXCLUDED."connections",
            "lastActiveAt" = GREATEST("ProxyActivity"."lastActiveAt", EXCLUDED."lastActiveAt"),
            "updatedAt" = EXCLUDED."updatedAt"`);
    // Not a transition: neither version nor updatedAt changes. Rows are locked in id order (no deadlocks
    // between proxies reporting the same computes), and the condition is checked again after the lock.
    statements.push(db.$executeRaw`
      WITH e AS (
        SELECT * FROM unnest(${ids}::text[], ${times}::timestamp(3)[]) AS e("id", "lastActiveAt")
      ), later AS (
        SELECT c."id", e."lastActiveAt" FROM "Compute" AS c JOIN e ON e."id" = c."id"
        WHERE c."lastActiveAt" IS NULL OR c."lastActiveAt" < e."lastActiveAt"
        ORDER BY c."id"
        FOR UPDATE OF c
      )
      UPDATE "Compute" AS c SET "lastActiveAt" = GREATEST(c."lastActiveAt", later."lastActiveAt")
      FROM later WHERE c."id" = later."id"`);
  }
  if (forgotten.length > 0) {
    statements.push(db.$executeRaw`
      DELETE FROM "ProxyActivity"
      WHERE "proxyId" = ${proxyId} AND "computeId" = ANY(${forgotten}::text[]) AND "connections" = 0`);
  }
  await db.$transaction(statements);
}
