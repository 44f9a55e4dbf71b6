import { db } from "../db";
import { AppError, notFound } from "../errors";
import { BILLED_STATES } from "@/lib/compute-states";
import { z } from "zod";
import { HOUR_MS, hourOf } from "./metering";
import { rolledRange } from "./rollup";

// Metered usage from the compute state intervals (usage events): compute seconds are the time spent in a
// billed state (running, resuming), CU-seconds weight them by the compute's size.

const HOUR = HOUR_MS;
const DAY = 24 * HOUR;

export const UsageQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    granularity: z.enum(["hour", "day"]).default("day"),
    /** csv: the same buckets as a spreadsheet (server/usage/csv.ts), over any range up to the longer caps. */
    format: z.enum(["json", "csv"]).default("json"),
  })
  .transform((q, ctx) => {
    const step = q.granularity === "hour" ? HOUR : DAY;
    const now = Date.now();
    // The future is clamped to now (DESIGN.md).
    const to = Math.min(q.to ? Date.parse(q.to) : now, now);
    const from = q.from ? Date.parse(q.from) : to - (q.granularity === "hour" ? 24 * HOUR : 30 * DAY);
    if (from > to) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after `to`" });
    // Rollups make long ranges cheap; the caps only bound a reply's size (an export may be longer).
    const csv = q.format === "csv";
    const maxBuckets = q.granularity === "hour" ? 24 * (csv ? 366 : 31) : 366 * (csv ? 10 : 2);
    if ((to - from) / step > maxBuckets) {
      ctx.addIssue({ code: "custom", path: ["from"], message: `the range may hold at most ${maxBuckets} ${q.granularity}s` });
    }
    return { from: new Date(from), to: new Date(to), step, granularity: q.granularity, format: q.format };
  });
export type UsageQuery = z.infer<typeof UsageQuerySchema>;

interface Interval {
  state: string;
  size: number;
  startedAt: Date;
  endedAt: Date | null;
}

/** An hourly storage sample (server/usage/storage-sampling.ts). */
export interface StorageSampleRow {
  computeId: string;
  hourStart: Date;
  bytes: bigint;
}

/** Bytes through the proxy in one hour for one compute (TransferHour). */
export interface TransferRow {
  hourStart: Date;
  bytesIn: bigint;
  bytesOut: bigint;
}

/** An hour already rolled up (UsageHour): its figures are taken as they are. */
export interface RolledHour {
  hourStart: Date;
  computeSeconds: number;
  cuSeconds: number;
}

/**
 * Bucket usage by hour or day: `events` (state intervals) count outside the `rolled` window, `hours`
 * (rollups) inside it, so a month-long range reads a month of hourly rows and only the still-open hours'
 * intervals.
 */
export function bucketUsage(
  events: Interval[],
  query: UsageQuery,
  now = new Date(),
  rolled: { window: { from: Date; to: Date } | null; hours: RolledHour[] } = { window: null, hours: [] },
  samples: StorageSampleRow[] = [],
  transfer: TransferRow[] = [],
) {
  const first = Math.floor(query.from.getTime() / query.step) * query.step;
  const buckets: { start: string; computeSeconds: number; cuSeconds: number; storageBytes: number | null; bytesIn: number; bytesOut: number }[] = [];
  const starts: number[] = [];
  for (let t = first; t < query.to.getTime(); t += query.step) {
    starts.push(t);
    buckets.push({ start: new Date(t).toISOString(), computeSeconds: 0, cuSeconds: 0, storageBytes: null, bytesIn: 0, bytesOut: 0 });
  }
  const add = (from: number, to: number, size: number) => {
    for (let i = 0; i < starts.length; i++) {
      const bucketStart = Math.max(starts[i]!, from);
      const bucketEnd = Math.min(starts[i]! + query.step, to);
      if (bucketEnd <= bucketStart) continue;
      const seconds = (bucketEnd - bucketStart) / 1000;
      buckets[i]!.computeSeconds += seconds;
      buckets[i]!.cuSeconds += seconds * size;
    }
  };
  const window = rolled.window ? [rolled.window.from.getTime(), rolled.window.to.getTime()] : null;
  for (const e of events) {
    if (!BILLED_STATES.includes(e.state as never)) continue;
    const start = Math.max(e.startedAt.getTime(), query.from.getTime());
    const end = Math.min((e.endedAt ?? now).getTime(), query.to.getTime(), now.getTime());
    if (!window) add(start, end, e.size);
    else {
      // The parts before and after the rolled-up window; inside it the rollups count.
      add(start, Math.min(end, window[0]!), e.size);
      add(Math.max(start, window[1]!), end, e.size);
    }
  }
  for (const h of rolled.hours) {
    const i = Math.floor((h.hourStart.getTime() - first) / query.step);
    if (i < 0 || i >= buckets.length) continue;
    buckets[i]!.computeSeconds += h.computeSeconds;
    buckets[i]!.cuSeconds += h.cuSeconds;
  }
  for (const t of transfer) {
    const i = Math.floor((t.hourStart.getTime() - first) / query.step);
    if (i < 0 || i >= buckets.length) continue;
    buckets[i]!.bytesIn += Number(t.bytesIn);
    buckets[i]!.bytesOut += Number(t.bytesOut);
  }
  // Storage of a bucket: each compute's last sample in it, summed (null where nothing was sampled).
  const lastSample = new Map<string, StorageSampleRow>();
  for (const sample of samples) {
    const i = Math.floor((sample.hourStart.getTime() - first) / query.step);
    if (i < 0 || i >= buckets.length) continue;
    const key = `${i}/${sample.computeId}`;
    const seen = lastSample.get(key);
    if (!seen || seen.hourStart < sample.hourStart) lastSample.set(key, sample);
  }
  for (const [key, sample] of lastSample) {
    const b = buckets[Number(key.slice(0, key.indexOf("/")))]!;
    b.storageBytes = (b.storageBytes ?? 0) + Number(sample.bytes);
  }
  const round = (n: number) => Math.round(n * 1000) / 1000;
  for (const b of buckets) {
    b.computeSeconds = round(b.computeSeconds);
    b.cuSeconds = round(b.cuSeconds);
  }
  const totals = {
    computeSeconds: round(buckets.reduce((s, b) => s + b.computeSeconds, 0)),
    cuSeconds: round(buckets.reduce((s, b) => s + b.cuSeconds, 0)),
    bytesIn: buckets.reduce((s, b) => s + b.bytesIn, 0),
    bytesOut: buckets.reduce((s, b) => s + b.bytesOut, 0),
  };
  return {
    usage: buckets,
    totals,
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    granularity: query.granularity,
  };
}

type Scope = { organizationId: { in: string[] } } | { projectId: string };

/** The whole hours of the query that are rolled up, or null. */
async function rolledWindow(query: UsageQuery): Promise<{ from: Date; to: Date } | null> {
  const range = await rolledRange();
  if (!range) return null;
  const from = Math.max(Math.ceil(query.from.getTime() / HOUR_MS) * HOUR_MS, range.from.getTime());
  const to = Math.min(hourOf(query.to.getTime()), range.to.getTime());
  return from < to ? { from: new Date(from), to: new Date(to) } : null;
}

/** What a usage reply is computed from: rows that each carry their project (null once it is deleted). */
interface UsageInputs {
  now: Date;
  events: (Interval & { id: string; projectId: string | null })[];
  rolled: { window: { from: Date; to: Date } | null; hours: (RolledHour & { projectId: string | null })[] };
  samples: (StorageSampleRow & { projectId: string | null })[];
  transfer: (TransferRow & { projectId: string | null })[];
}

/** The scope's rows for the query: rollups for the rolled-up hours, intervals for the rest. */
async function loadUsage(scope: Scope, query: UsageQuery): Promise<UsageInputs> {
  const now = new Date();
  const hours = { gte: new Date(hourOf(query.from.getTime())), lt: query.to };
  const [window, samples, transfer] = await Promise.all([
    rolledWindow(query),
    db.storageSample.findMany({ where: { ...scope, hourStart: hours }, select: { projectId: true, computeId: true, hourStart: true, bytes: true } }),
    db.transferHour.findMany({ where: { ...scope, hourStart: hours }, select: { projectId: true, hourStart: true, bytesIn: true, bytesOut: true } }),
  ]);
  if (!window) return { now, events: await eventsIn(scope, query.from, query.to), rolled: { window: null, hours: [] }, samples, transfer };
  const [before, after, rolledHours] = await Promise.all([
    window.from > query.from ? eventsIn(scope, query.from, window.from) : [],
    window.to < query.to ? eventsIn(scope, window.to, query.to) : [],
    // Summed per hour and project by the database: a month of 100 computes in one project is 720 rows to
    // read, not 72,000 (the per-project reply needs the project; the organization's sums over it).
    db.usageHour
      .groupBy({
        by: ["hourStart", "projectId"],
        where: { ...scope, hourStart: { gte: window.from, lt: window.to } },
        _sum: { computeSeconds: true, cuSeconds: true },
      })
      .then((rows) =>
        rows.map((r) => ({ projectId: r.projectId, hourStart: r.hourStart, computeSeconds: r._sum.computeSeconds ?? 0, cuSeconds: r._sum.cuSeconds ?? 0 })),
      ),
  ]);
  // An interval spanning the window would be fetched twice: count it once.
  const seen = new Set(before.map((e) => e.id));
  const events = [...before, ...after.filter((e) => !seen.has(e.id))];
  return { now, events, rolled: { window, hours: rolledHours }, samples, transfer };
}

function bucketInputs(inputs: UsageInputs, query: UsageQuery) {
  return bucketUsage(inputs.events, query, inputs.now, inputs.rolled, inputs.samples, inputs.transfer);
}

/** Usage of the scope over the query. */
async function usageOf(scope: Scope, query: UsageQuery) {
  return bucketInputs(await loadUsage(scope, query), query);
}

/** The inputs of one project (null: the deleted ones), from the inputs of many. */
function inputsOf(inputs: UsageInputs, projectId: string | null): UsageInputs {
  const mine = <T extends { projectId: string | null }>(rows: T[]) => rows.filter((r) => r.projectId === projectId);
  return {
    now: inputs.now,
    events: mine(inputs.events),
    rolled: { window: inputs.rolled.window, hours: mine(inputs.rolled.hours) },
    samples: mine(inputs.samples),
    transfer: mine(inputs.transfer),
  };
}

async function eventsIn(where: Scope, from: Date, to: Date) {
  return db.usageEvent.findMany({
    where: {
      ...where,
      state: { in: [...BILLED_STATES] },
      startedAt: { lt: to },
      OR: [{ endedAt: null }, { endedAt: { gt: from } }],
    },
    select: { id: true, projectId: true, state: true, size: true, startedAt: true, endedAt: true },
  });
}

export async function organizationUsage({ organizationIds, query }: { organizationIds: string[]; query: UsageQuery }) {
  if (organizationIds.filter(Boolean).length === 0) throw new AppError("not_found", "organization not found");
  return usageOf({ organizationId: { in: organizationIds } }, query);
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
  return usageOf({ projectId: project.id }, query);
}

/**
 * The acting organization's usage per project (GET /api/v1/usage/projects): the same buckets as
 * GET /api/v1/usage, one series per project that used anything in the range (deleted projects together,
 * with `projectId` null), read in one pass over the organization's rows.
 */
export async function organizationUsageByProject({ organizationId, query }: { organizationId: string; query: UsageQuery }) {
  // A session whose user belongs to no organization: the same 404 as GET /api/v1/usage.
  if (!organizationId) throw new AppError("not_found", "organization not found");
  if (query.format !== "json") {
    throw new AppError("validation", "format=csv is served by GET /api/v1/usage (the organization's totals); this endpoint answers JSON only", [
      { path: "format", message: 'must be "json" (or left out) here' },
    ]);
  }
  const inputs = await loadUsage({ organizationId: { in: [organizationId] } }, query);
  const ids = new Set<string | null>();
  for (const rows of [inputs.events, inputs.rolled.hours, inputs.samples, inputs.transfer]) for (const r of rows) ids.add(r.projectId);
  const named = await db.project.findMany({
    where: { organizationId, id: { in: [...ids].filter((id): id is string => id !== null) } },
    select: { id: true, name: true, slug: true },
  });
  const byId = new Map(named.map((p) => [p.id, p]));
  const projects = [...ids]
    .map((projectId) => {
      const project = projectId ? byId.get(projectId) : undefined;
      const { usage, totals } = bucketInputs(inputsOf(inputs, projectId), query);
      return { projectId: project?.id ?? null, name: project?.name ?? "Deleted projects", slug: project?.slug ?? null, usage, totals };
    })
    .sort((a, b) => (a.projectId === null ? 1 : b.projectId === null ? -1 : a.name.localeCompare(b.name)));
  return { projects, from: query.from.toISOString(), to: query.to.toISOString(), granularity: query.granularity };
}
