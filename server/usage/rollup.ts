import { db, type Prisma } from "../db";
import { utcTimestamp } from "../db/sql";
import { logger } from "../logger";
import { BILLED_STATES } from "@/lib/compute-states";
import { HOUR_MS, hourOf, meterByHour, type MeteredInterval } from "./metering";

// Hourly rollups per compute and monthly per organization, written by the scheduler once an hour has
// closed. Idempotent by construction: a rollup recomputes its hour from the state intervals and writes it
// with upserts (never increments), and a month is recomputed as the sum of its hours, so running one twice
// writes the same figures. Two replicas at once: each hour's run holds a transaction-scoped advisory lock
// on its slot and records the slot (primary key) in the same transaction, so the second finds it done.

/** An hour is rolled up this long after it closes, so a transition committing at its end is seen. */
export const ROLLUP_GRACE_MS = 60_000;
/** Hours a tick rolls up at most (catching up after downtime spreads over several ticks). */
const HOURS_PER_TICK = 24;
const LOCK_CLASS = 0x75736167; // "usag": the advisory lock's first key, the hour's index the second

interface Row extends MeteredInterval {
  organizationId: string;
  projectId: string | null;
  computeId: string | null;
}

/**
 * Write every compute's use in [hourStart, +1h), and the months of the organizations concerned; limited
 * to one organization when given (tests, repairs). Returns the number of compute-hours written.
 */
export async function recomputeHour(tx: Prisma.TransactionClient, hourStart: Date, organizationId?: string): Promise<number> {
  const from = hourStart;
  const to = new Date(hourStart.getTime() + HOUR_MS);
  const intervals: Row[] = await tx.usageEvent.findMany({
    where: {
      ...(organizationId ? { organizationId } : {}),
      state: { in: [...BILLED_STATES] },
      startedAt: { lt: to },
      OR: [{ endedAt: null }, { endedAt: { gt: from } }],
    },
    select: { organizationId: true, projectId: true, computeId: true, state: true, size: true, startedAt: true, endedAt: true },
  });
  const byCompute = new Map<string, Row[]>();
  for (const row of intervals) {
    const key = `${row.organizationId}/${row.computeId ?? ""}`;
    const rows = byCompute.get(key);
    if (rows) rows.push(row);
    else byCompute.set(key, [row]);
  }
  // An interval still open at the hour's end ran through it: count it to the end (the hour is closed).
  const now = to;
  const hours: HourRow[] = [];
  for (const rows of byCompute.values()) {
    const used = meterByHour(rows, { from, to }, now).get(from.getTime());
    if (!used) continue;
    const { organizationId: org, computeId } = rows[0]!;
    const projectId = rows.find((r) => r.projectId)?.projectId ?? null;
    hours.push({ organizationId: org, projectId, computeId: computeId ?? "", computeSeconds: used.computeSeconds, cuSeconds: used.cuSeconds });
  }
  // Set-based writes: one statement per chunk of computes and one for the months, not a round trip per
  // compute (the scheduler rolls up an hour of 10,000 computes within a tick: npm run bench:usage).
  for (let i = 0; i < hours.length; i += WRITE_CHUNK) await upsertHours(tx, from, hours.slice(i, i + WRITE_CHUNK));
  await recomputeMonths(tx, [...new Set(hours.map((h) => h.organizationId))], from);
  return hours.length;
}

interface HourRow {
  organizationId: string;
  projectId: string | null;
  computeId: string;
  computeSeconds: number;
  cuSeconds: number;
}

/** Computes written per statement. */
const WRITE_CHUNK = 5000;

async function upsertHours(tx: Prisma.TransactionClient, hourStart: Date, rows: HourRow[]): Promise<void> {
  const col = <K extends keyof HourRow>(k: K) => rows.map((r) => r[k]);
  await tx.$executeRaw`
    INSERT INTO "UsageHour" (id, "organizationId", "projectId", "computeId", "hourStart", "computeSeconds", "cuSeconds", "updatedAt")
    SELECT gen_random_uuid()::text, u.org, u.project, u.compute, ${utcTimestamp(hourStart)}, u.seconds, u.cu, now() AT TIME ZONE 'UTC'
    FROM unnest(${col("organizationId")}::text[], ${col("projectId")}::text[], ${col("computeId")}::text[],
                ${col("computeSeconds")}::float8[], ${col("cuSeconds")}::float8[]) AS u(org, project, compute, seconds, cu)
    ON CONFLICT ("organizationId", "computeId", "hourStart") DO UPDATE
      SET "projectId" = EXCLUDED."projectId", "computeSeconds" = EXCLUDED."computeSeconds", "cuSeconds" = EXCLUDED."cuSeconds", "updatedAt" = EXCLUDED."updatedAt"`;
}

/** The organizations' months that hold `at`, each as the sum of its hours (one statement). */
async function recomputeMonths(tx: Prisma.TransactionClient, organizationIds: string[], at: Date): Promise<void> {
  if (organizationIds.length === 0) return;
  const month = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  await tx.$executeRaw`
    INSERT INTO "UsageMonth" ("organizationId", month, "computeSeconds", "cuSeconds", "updatedAt")
    SELECT "organizationId", ${utcTimestamp(month)}, SUM("computeSeconds"), SUM("cuSeconds"), now() AT TIME ZONE 'UTC'
    FROM "UsageHour"
    WHERE "organizationId" = ANY(${organizationIds}::text[]) AND "hourStart" >= ${utcTimestamp(month)} AND "hourStart" < ${utcTimestamp(next)}
    GROUP BY "organizationId"
    ON CONFLICT ("organizationId", month) DO UPDATE
      SET "computeSeconds" = EXCLUDED."computeSeconds", "cuSeconds" = EXCLUDED."cuSeconds", "updatedAt" = EXCLUDED."updatedAt"`;
}

/** Roll up one closed hour for everyone, once: false when it was done already (by us or a replica). */
export async function rollupHour(hourStart: Date): Promise<boolean> {
  return db.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::int, ${Math.floor(hourStart.getTime() / HOUR_MS)}::int)::text`;
      const done = await tx.usageRollupSlot.findUnique({ where: { hourStart } });
      if (done) return false;
      await recomputeHour(tx, hourStart);
      await tx.usageRollupSlot.create({ data: { hourStart } });
      return true;
    },
    { timeout: 60_000 },
  );
}

/** The rolled-up range: hours in [from, to) are read from UsageHour; null when nothing is rolled up yet. */
export async function rolledRange(): Promise<{ from: Date; to: Date } | null> {
  const slots = await db.usageRollupSlot.aggregate({ _min: { hourStart: true }, _max: { hourStart: true } });
  if (!slots._min.hourStart || !slots._max.hourStart) return null;
  return { from: slots._min.hourStart, to: new Date(slots._max.hourStart.getTime() + HOUR_MS) };
}

/**
 * The scheduler's part, from its tick: roll up the closed hours after the last one rolled up, in order (at
 * most HOURS_PER_TICK). The first run starts at the oldest interval's hour, so history is rolled up too.
 */
export async function rollupClosedHours(now = new Date()): Promise<number> {
  const range = await rolledRange();
  let next: number;
  if (range) next = range.to.getTime();
  else {
    const oldest = await db.usageEvent.aggregate({ _min: { startedAt: true } });
    next = oldest._min.startedAt ? hourOf(oldest._min.startedAt.getTime()) : hourOf(now.getTime()) - HOUR_MS;
  }
  let rolled = 0;
  for (; rolled < HOURS_PER_TICK && next + HOUR_MS + ROLLUP_GRACE_MS <= now.getTime(); next += HOUR_MS) {
    await rollupHour(new Date(next));
    rolled++;
  }
  if (rolled > 0) logger.debug({ rolled, until: new Date(next).toISOString() }, "usage rolled up");
  return rolled;
}
