import { db } from "../db";

export interface ActivityEntry {
  computeId: string;
  /** Client connections open through this proxy now (0 is kept, so lastActiveAt survives). */
  connections: number;
  /** The last query, connection opening or closing through this proxy. */
  lastActiveAt: Date;
  /** Bytes relayed client to compute since this proxy's last report (added to TransferHour). */
  bytesIn?: number;
  /** Bytes relayed compute to client since the last report. */
  bytesOut?: number;
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
  const byCompute = new Map<string, { connections: number; lastActiveAt: number; bytesIn: number; bytesOut: number }>();
  for (const entry of entries) {
    const time = entry.lastActiveAt.getTime();
    if (!entry.computeId || !Number.isFinite(time)) throw new TypeError(`invalid activity entry for compute "${entry.computeId}"`);
    const connections = Math.max(0, Math.trunc(entry.connections) || 0);
    const seen = byCompute.get(entry.computeId);
    const bytes = (n: number | undefined) => Math.max(0, Math.trunc(n ?? 0) || 0);
    byCompute.set(entry.computeId, {
      connections,
      lastActiveAt: Math.max(time, seen?.lastActiveAt ?? time),
      bytesIn: (seen?.bytesIn ?? 0) + bytes(entry.bytesIn),
      bytesOut: (seen?.bytesOut ?? 0) + bytes(entry.bytesOut),
    });
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
  const moved = ids.filter((id) => byCompute.get(id)!.bytesIn + byCompute.get(id)!.bytesOut > 0);
  if (moved.length > 0) {
    // Transfer per compute and UTC hour of the report: a report covers the last second or so, so bytes
    // land in the hour they moved in, give or take one flush interval. Computes gone meanwhile are skipped.
    const bytesIn = moved.map((id) => byCompute.get(id)!.bytesIn);
    const bytesOut = moved.map((id) => byCompute.get(id)!.bytesOut);
    statements.push(db.$executeRaw`
      INSERT INTO "TransferHour" ("organizationId", "projectId", "computeId", "hourStart", "bytesIn", "bytesOut")
      SELECT p."organizationId", c."projectId", e."computeId", date_trunc('hour', ${now}::timestamp(3)), e."bytesIn", e."bytesOut"
      FROM unnest(${moved}::text[], ${bytesIn}::bigint[], ${bytesOut}::bigint[]) AS e("computeId", "bytesIn", "bytesOut")
      JOIN "Compute" c ON c.id = e."computeId" JOIN "Project" p ON p.id = c."projectId"
      ORDER BY e."computeId"
      ON CONFLICT ("computeId", "hourStart") DO UPDATE
        SET "bytesIn" = "TransferHour"."bytesIn" + EXCLUDED."bytesIn",
            "bytesOut" = "TransferHour"."bytesOut" + EXCLUDED."bytesOut"`);
  }
  if (forgotten.length > 0) {
    statements.push(db.$executeRaw`
      DELETE FROM "ProxyActivity"
      WHERE "proxyId" = ${proxyId} AND "computeId" = ANY(${forgotten}::text[]) AND "connections" = 0`);
  }
  await db.$transaction(statements);
}
