import { db } from "../db";
import { AppError, notFound } from "../errors";
import { BILLED_STATES } from "@/lib/compute-states";
import { z } from "zod";

// Metered usage from the compute state intervals (usage events): compute seconds are the time spent in a
// billed state (running, resuming), CU-seconds weight them by the compute's size.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const UsageQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    granularity: z.enum(["hour", "day"]).default("day"),
  })
  .transform((q, ctx) => {
    const step = q.granularity === "hour" ? HOUR : DAY;
    const now = Date.now();
    // The future is clamped to now (DESIGN.md).
    const to = Math.min(q.to ? Date.parse(q.to) : now, now);
    const from = q.from ? Date.parse(q.from) : to - (q.granularity === "hour" ? 24 * HOUR : 30 * DAY);
    if (from > to) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after `to`" });
    const maxBuckets = q.granularity === "hour" ? 24 * 31 : 366 * 2;
    if ((to - from) / step > maxBuckets) {
      ctx.addIssue({ code: "custom", path: ["from"], message: `the range may hold at most ${maxBuckets} ${q.granularity}s` });
    }
    return { from: new Date(from), to: new Date(to), step, granularity: q.granularity };
  });
export type UsageQuery = z.infer<typeof UsageQuerySchema>;

interface Interval {
  state: string;
  size: number;
  startedAt: Date;
  endedAt: Date | null;
}

export function bucketUsage(events: Interval[], query: UsageQuery, now = new Date()) {
  const first = Math.floor(query.from.getTime() / query.step) * query.step;
  const buckets: { start: string; computeSeconds: number; cuSeconds: number; storageBytes: number | null }[] = [];
  const starts: number[] = [];
  for (let t = first; t < query.to.getTime(); t += query.step) {
    starts.push(t);
    buckets.push({ start: new Date(t).toISOString(), computeSeconds: 0, cuSeconds: 0, storageBytes: null });
  }
  for (const e of events) {
    if (!BILLED_STATES.includes(e.state as never)) continue;
    const start = Math.max(e.startedAt.getTime(), query.from.getTime());
    const end = Math.min((e.endedAt ?? now).getTime(), query.to.getTime());
    for (let i = 0; i < starts.length; i++) {
      const bucketStart = Math.max(starts[i]!, start);
      const bucketEnd = Math.min(starts[i]! + query.step, end);
      if (bucketEnd <= bucketStart) continue;
      const seconds = (bucketEnd - bucketStart) / 1000;
      buckets[i]!.computeSeconds += seconds;
      buckets[i]!.cuSeconds += seconds * e.size;
    }
  }
  const round = (n: number) => Math.round(n * 1000) / 1000;
  for (const b of buckets) {
    b.computeSeconds = round(b.computeSeconds);
    b.cuSeconds = round(b.cuSeconds);
  }
  const totals = {
    computeSeconds: round(buckets.reduce((s, b) => s + b.computeSeconds, 0)),
    cuSeconds: round(buckets.reduce((s, b) => s + b.cuSeconds, 0)),
  };
  return {
    usage: buckets,
    totals,
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    granularity: query.granularity,
  };
}

async function eventsIn(where: { organizationId?: { in: string[] }; projectId?: string }, query: UsageQuery) {
  return db.usageEvent.findMany({
    where: {
      ...where,
      state: { in: [...BILLED_STATES] },
      startedAt: { lt: query.to },
      OR: [{ endedAt: null }, { endedAt: { gt: query.from } }],
    },
    select: { state: true, size: true, startedAt: true, endedAt: true },
  });
}

export async function organizationUsage({ organizationIds, query }: { organizationIds: string[]; query: UsageQuery }) {
  if (organizationIds.length === 0) throw new AppError("not_found", "organization not found");
  return bucketUsage(await eventsIn({ organizationId: { in: organizationIds } }, query), query);
}

export async function projectUsage({
  organizationIds,
  projectId,
  query,
}: {
  organizationIds: string[];
  projectId: string;
  query: UsageQuery;
}) {
  const project = await db.project.findFirst({ where: { id: projectId, organizationId: { in: organizationIds } }, select: { id: true } });
  if (!project) throw notFound("project");
  return bucketUsage(await eventsIn({ projectId: project.id }, query), query);
}
