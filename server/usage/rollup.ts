import { db, type Prisma } from "../db";
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
    byCompute.set(key, [...(byCompute.get(key) ?? []), row]);
  }
  // An interval still open at the hour's end ran through it: count it to the end (the hour is closed).
  const now = to;
  const organizations = new Set<string>();
  let written = 0;
  for (const rows of byCompute.values()) {
    const used = meterByHour(rows, { from, to }, now).get(from.getTime());
    if (!used) continue;
    const { organizationId: org, computeId } = rows[0]!;
    const projectId = rows.find((r) => r.projectId)?.projectId ?? null;
    const values = { projectId, computeSeconds: used.computeSeconds, cuSeconds: used.cuSeconds };
    await tx.usageHour.upsert({
      where: { organizationId_computeId_hourStart: { organizationId: org, computeId: computeId ?? "", hourStart: from } },
      create: { organizationId: org, computeId: computeId ?? "", hourStart: from, ...values },
      update: values,
    });
    organizations.add(org);
    written++;
  }
  for (const org of organizations) await recomputeMonth(tx, org, from);
  return written;
}

/** The organization's month that holds `at`, as the sum of its hours. */
async function recomputeMonth(tx: Prisma.TransactionClient, organizationId: string, at: Date): Promise<void> {
  const month = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  const sum = await tx.usageHour.aggregate({
    where: { organizationId, hourStart: { gte: month, lt: next } },
    _sum: { computeSeconds: true, cuSeconds: true },
  });
  const values = { computeSeconds: sum._sum.computeSeconds ?? 0, cuSeconds: sum._sum.cuSeconds ?? 0 };
  await tx.usageMonth.upsert({
    where: { organizationId_month: { organizationId, month } },
    create: { organizationId, month, ...values },
    update: values,
  });
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
