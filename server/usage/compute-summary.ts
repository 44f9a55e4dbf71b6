import { BILLED_STATES } from "@/lib/compute-states";

// What one compute did over a window of whole UTC days, pure (the loader in compute-usage.ts feeds it):
// time running, paused and suspended, what pausing and suspending saved against running all the time,
// wakes per day and the wake latency clients saw. The per-compute usage panel shows it.

export const DAY_MS = 86_400_000;

/** The UTC day that holds `t` (ms since the epoch). */
export function utcDayOf(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

/** How the panel groups the lifecycle's states: billed time, warm, cold, and the rest. */
export type StateGroup = "running" | "paused" | "suspended" | "other";

export function stateGroup(state: string): StateGroup {
  if ((BILLED_STATES as readonly string[]).includes(state)) return "running";
  if (state === "paused") return "paused";
  if (state === "suspended" || state === "suspending") return "suspended";
  return "other"; // provisioning, failed, deleting
}

export interface StateInterval {
  state: string;
  size: number;
  startedAt: Date;
  endedAt: Date | null;
}

export interface WakeSample {
  startedAt: Date;
  /** warm (from paused), cold (from suspended or failed), joined (a wake already under way). */
  kind: string;
  durationMs: number;
}

export type StateSeconds = Record<StateGroup, number>;
export type WakeCounts = { warm: number; cold: number; joined: number };
export interface Latency {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
}

export interface ComputeSummary {
  from: string;
  to: string;
  seconds: StateSeconds;
  /** Billed CU-hours in the window, and what running every second of it would have billed. */
  cuHours: number;
  alwaysOnCuHours: number;
  savings: { cuHours: number; usd: number; pricePerCuHour: number; pricePlan: string };
  days: { date: string; seconds: StateSeconds; wakes: WakeCounts }[];
  wakeLatency: { warm: Latency; cold: Latency; joined: Latency };
}

const zeroSeconds = (): StateSeconds => ({ running: 0, paused: 0, suspended: 0, other: 0 });
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The nearest-rank percentile (the smallest value with at least p % of the values at or below it), so
 * each figure is a latency some client really saw; null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function latency(values: number[]): Latency {
  return { count: values.length, p50Ms: percentile(values, 50), p90Ms: percentile(values, 90) };
}

/**
 * Summarize a compute over [from, to): `from` is a UTC midnight, `to` usually now. Intervals are clipped to
 * the window (an open one runs up to `to`) and split at UTC midnights; savings are the paused and
 * suspended CU-seconds (each at the size it had), priced at `price.perCuHour`.
 */
export function summarizeCompute({
  intervals,
  wakes,
  from,
  to,
  price,
}: {
  intervals: readonly StateInterval[];
  wakes: readonly WakeSample[];
  from: Date;
  to: Date;
  price: { perCuHour: number; plan: string };
}): ComputeSummary {
  const start = from.getTime();
  const end = to.getTime();
  const days: ComputeSummary["days"] = [];
  for (let day = utcDayOf(start); day < end; day += DAY_MS) {
    days.push({ date: new Date(day).toISOString().slice(0, 10), seconds: zeroSeconds(), wakes: { warm: 0, cold: 0, joined: 0 } });
  }
  const first = utcDayOf(start);
  const seconds = zeroSeconds();
  let billedCuSeconds = 0;
  let savedCuSeconds = 0;
  for (const interval of intervals) {
    const group = stateGroup(interval.state);
    const a = Math.max(interval.startedAt.getTime(), start);
    const b = Math.min((interval.endedAt ?? to).getTime(), end);
    if (b <= a) continue;
    const cuSeconds = ((b - a) / 1000) * interval.size;
    if (group === "running") billedCuSeconds += cuSeconds;
    if (group === "paused" || group === "suspended") savedCuSeconds += cuSeconds;
    seconds[group] += (b - a) / 1000;
    for (let day = utcDayOf(a); day < b; day += DAY_MS) {
      const ms = Math.min(day + DAY_MS, b) - Math.max(day, a);
      const bucket = days[(day - first) / DAY_MS];
      if (bucket && ms > 0) bucket.seconds[group] += ms / 1000;
    }
  }
  const byKind: Record<keyof WakeCounts, number[]> = { warm: [], cold: [], joined: [] };
  for (const wake of wakes) {
    const t = wake.startedAt.getTime();
    if (t < start || t >= end) continue;
    const kind = (wake.kind in byKind ? wake.kind : "joined") as keyof WakeCounts;
    byKind[kind].push(wake.durationMs);
    const bucket = days[(utcDayOf(t) - first) / DAY_MS];
    if (bucket) bucket.wakes[kind] += 1;
  }
  for (const day of days) for (const g of Object.keys(day.seconds) as StateGroup[]) day.seconds[g] = round(day.seconds[g], 3);
  for (const g of Object.keys(seconds) as StateGroup[]) seconds[g] = round(seconds[g], 3);
  const savedCuHours = savedCuSeconds / 3600;
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    seconds,
    cuHours: round(billedCuSeconds / 3600, 6),
    alwaysOnCuHours: round((billedCuSeconds + savedCuSeconds) / 3600, 6),
    savings: { cuHours: round(savedCuHours, 6), usd: round(savedCuHours * price.perCuHour, 2), pricePerCuHour: price.perCuHour, pricePlan: price.plan },
    days,
    wakeLatency: { warm: latency(byKind.warm), cold: latency(byKind.cold), joined: latency(byKind.joined) },
  };
}
