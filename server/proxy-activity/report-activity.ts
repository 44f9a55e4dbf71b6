import { Prisma, transactionOnPool } from "../db";
import type { PoolActivity } from "./live-activity";
import type { PinSummary } from "./pins";

export interface ActivityEntry {
  computeId: string;
  /** Client sessions attached through this proxy now, pinned ones included (0 is kept, so lastActiveAt survives). */
  connections: number;
  /** The last query, connection opening or closing through this proxy. */
  lastActiveAt: Date;
  /** Bytes relayed client to compute since this proxy's last report (added to TransferHour). */
  bytesIn?: number;
  /** Bytes relayed compute to client since the last report. */
  bytesOut?: number;
  /** Client sessions this proxy holds parked (no compute connection, not activity). */
  parked?: number;
  /** Of `connections`, the sessions that cannot park (pinned). */
  pinned?: number;
  /** Why they cannot park, summed by reason. */
  pins?: readonly PinSummary[];
  /** The compute thread ids this proxy holds open without a client session (the full current set). */
  idleThreadIds?: readonly number[];
  /** This proxy's pool of the compute's server connections now (issue 15); absent: none (all 0). */
  pool?: Readonly<PoolActivity>;
}

interface Row {
  connections: number;
  lastActiveAt: number;
  bytesIn: number;
  bytesOut: number;
  parked: number;
  pinned: number;
  pins: string;
  idleThreadIds: string;
  pool: PoolActivity;
}

const count = (n: number | undefined) => Math.max(0, Math.trunc(n ?? 0) || 0);
/** An int column's figure: a count, at most 2^31 - 1. */
const int = (n: number | undefined) => Math.min(2 ** 31 - 1, count(n));

function poolRow(pool: Readonly<PoolActivity> | undefined): PoolActivity {
  return {
    serverInUse: int(pool?.serverInUse),
    serverIdle: int(pool?.serverIdle),
    serverLimit: int(pool?.serverLimit),
    queued: int(pool?.queued),
    longestWaitMs: int(pool?.longestWaitMs),
    waits: int(pool?.waits),
    waitMsTotal: Math.min(Number.MAX_SAFE_INTEGER, count(pool?.waitMsTotal)),
    timeouts: int(pool?.timeouts),
  };
}

export interface ReportActivityOptions {
  /** Computes whose rows this proxy deletes after this report (only rows holding no session, thread nor queued client are deleted). */
  forget?: string[];
}

/**
 * One proxy's report, in one transaction: upsert its (proxy, compute) rows, advance Compute.lastActiveAt to
 * the reported time where that is later (computes that no longer exist are skipped), and delete the rows it
 * forgets. lastActiveAt never moves back, neither on the row nor on the compute.
 */
export async function reportActivity(proxyId: string, entries: ActivityEntry[], { forget = [] }: ReportActivityOptions = {}): Promise<void> {
  // One row per compute (ON CONFLICT may not touch a row twice): the latest time, the last count given.
  const byCompute = new Map<string, Row>();
  for (const entry of entries) {
    const time = entry.lastActiveAt.getTime();
    if (!entry.computeId || !Number.isFinite(time)) throw new TypeError(`invalid activity entry for compute "${entry.computeId}"`);
    const seen = byCompute.get(entry.computeId);
    byCompute.set(entry.computeId, {
      connections: count(entry.connections),
      lastActiveAt: Math.max(time, seen?.lastActiveAt ?? time),
      bytesIn: (seen?.bytesIn ?? 0) + count(entry.bytesIn),
      bytesOut: (seen?.bytesOut ?? 0) + count(entry.bytesOut),
      parked: count(entry.parked),
      pinned: count(entry.pinned),
      pins: JSON.stringify(
        (entry.pins ?? []).map((p) => ({ reason: String(p.reason), sessions: count(p.sessions), idleSince: p.idleSince.toISOString() })),
      ),
      idleThreadIds: JSON.stringify((entry.idleThreadIds ?? []).filter((id) => Number.isSafeInteger(id) && id > 0 && id < 2 ** 31)),
      pool: poolRow(entry.pool),
    });
  }
  // Sorted, so concurrent reports from several proxies lock the same compute rows in the same order.
  const ids = [...byCompute.keys()].sort();
  const forgotten = [...new Set(forget)].sort();
  if (ids.length === 0 && forgotten.length === 0) return;

  const connections = ids.map((id) => byCompute.get(id)!.connections);
  const parked = ids.map((id) => byCompute.get(id)!.parked);
  const pinned = ids.map((id) => byCompute.get(id)!.pinned);
  const pins = ids.map((id) => byCompute.get(id)!.pins);
  // Arrays of arrays do not unnest row by row: each set travels as JSON text and becomes int[] in SQL.
  const idleThreadIds = ids.map((id) => byCompute.get(id)!.idleThreadIds);
  // The pool's figures, one array per column (bigint for the summed wait time).
  const pool = (field: keyof PoolActivity) => ids.map((id) => byCompute.get(id)!.pool[field]);
  // ISO strings cast to timestamp(3): the zone is dropped, leaving the UTC wall time Prisma stores.
  const times = ids.map((id) => new Date(byCompute.get(id)!.lastActiveAt).toISOString());
  const now = new Date().toISOString();

  const statements = [];
  if (ids.length > 0) {
    statements.push(Prisma.sql`
      INSERT INTO "ProxyActivity" ("proxyId", "computeId", "connections", "lastActiveAt", "updatedAt", "parked", "pinned", "pins", "idleThreadIds",
                                   "poolServerInUse", "poolServerIdle", "poolServerLimit", "poolQueued", "poolLongestWaitMs",
                                   "poolWaits", "poolWaitMsTotal", "poolTimeouts")
      SELECT ${proxyId}, e."computeId", e."connections", e."lastActiveAt", ${now}::timestamp(3), e."parked", e."pinned", e."pins"::jsonb,
             ARRAY(SELECT jsonb_array_elements_text(e."idleThreadIds"::jsonb)::int),
             e."inUse", e."idle", e."limit", e."queued", e."longestWaitMs", e."waits", e."waitMsTotal", e."timeouts"
      FROM unnest(${ids}::text[], ${connections}::int[], ${times}::timestamp(3)[], ${parked}::int[], ${pinned}::int[], ${pins}::text[], ${idleThreadIds}::text[],
                  ${pool("serverInUse")}::int[], ${pool("serverIdle")}::int[], ${pool("serverLimit")}::int[], ${pool("queued")}::int[],
                  ${pool("longestWaitMs")}::int[], ${pool("waits")}::int[], ${pool("waitMsTotal")}::bigint[], ${pool("timeouts")}::int[])
        AS e("computeId", "connections", "lastActiveAt", "parked", "pinned", "pins", "idleThreadIds",
             "inUse", "idle", "limit", "queued", "longestWaitMs", "waits", "waitMsTotal", "timeouts")
      ORDER BY e."computeId"
      ON CONFLICT ("proxyId", "computeId") DO UPDATE
        SET "connections" = EXCLUDED."connections",
            "parked" = EXCLUDED."parked",
            "pinned" = EXCLUDED."pinned",
            "pins" = EXCLUDED."pins",
            "idleThreadIds" = EXCLUDED."idleThreadIds",
            "poolServerInUse" = EXCLUDED."poolServerInUse",
            "poolServerIdle" = EXCLUDED."poolServerIdle",
            "poolServerLimit" = EXCLUDED."poolServerLimit",
            "poolQueued" = EXCLUDED."poolQueued",
            "poolLongestWaitMs" = EXCLUDED."poolLongestWaitMs",
            "poolWaits" = EXCLUDED."poolWaits",
            "poolWaitMsTotal" = EXCLUDED."poolWaitMsTotal",
            "poolTimeouts" = EXCLUDED."poolTimeouts",
            "lastActiveAt" = GREATEST("ProxyActivity"."lastActiveAt", EXCLUDED."lastActiveAt"),
            "updatedAt" = EXCLUDED."updatedAt"`);
    // Not a transition: neither version nor updatedAt changes. Rows are locked in id order (no deadlocks
    // between proxies reporting the same computes), and the condition is checked again after the lock.
    statements.push(Prisma.sql`
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
    statements.push(Prisma.sql`
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
    statements.push(Prisma.sql`
      DELETE FROM "ProxyActivity"
      WHERE "proxyId" = ${proxyId} AND "computeId" = ANY(${forgotten}::text[])
        AND "connections" = 0 AND "parked" = 0 AND cardinality("idleThreadIds") = 0
        AND "poolServerInUse" = 0 AND "poolServerIdle" = 0 AND "poolQueued" = 0`);
  }
  await transactionOnPool(statements);
}
