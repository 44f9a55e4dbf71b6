import { BILLED_STATES } from "@/lib/compute-states";

// Metering, pure: billed time of state intervals split by UTC hour. The rollups (server/usage/rollup.ts)
// and the usage API's still-open hours use this one function, so both count the same way. Times are
// whole milliseconds (what PostgreSQL keeps), so sums of durations are exact; CU-seconds weight them by
// the size the compute ran at. An open interval (no end yet) counts up to `now`.

export const HOUR_MS = 3_600_000;

export interface MeteredInterval {
  state: string;
  size: number;
  startedAt: Date;
  endedAt: Date | null;
}

export interface Metered {
  computeSeconds: number;
  cuSeconds: number;
}

/** The UTC hour that holds `t` (ms since the epoch). */
export function hourOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/**
 * Billed seconds and CU-seconds of `intervals` inside [from, to), per UTC hour (keyed by the hour's start
 * in ms), never past `now`. Intervals of unbilled states (paused, suspended, ...) count nothing.
 */
export function meterByHour(intervals: Iterable<MeteredInterval>, range: { from: Date; to: Date }, now: Date): Map<number, Metered> {
  const hours = new Map<number, Metered>();
  const limit = Math.min(range.to.getTime(), now.getTime());
  for (const interval of intervals) {
    if (!(BILLED_STATES as readonly string[]).includes(interval.state)) continue;
    const start = Math.max(interval.startedAt.getTime(), range.from.getTime());
    const end = Math.min((interval.endedAt ?? now).getTime(), limit);
    for (let hour = hourOf(start); hour < end; hour += HOUR_MS) {
      const ms = Math.min(hour + HOUR_MS, end) - Math.max(hour, start);
      if (ms <= 0) continue;
      const into = hours.get(hour) ?? { computeSeconds: 0, cuSeconds: 0 };
      into.computeSeconds += ms / 1000;
      into.cuSeconds += (ms * interval.size) / 1000;
      hours.set(hour, into);
    }
  }
  return hours;
}

/** The sum of every hour's usage. */
export function total(hours: Iterable<Metered>): Metered {
  const sum = { computeSeconds: 0, cuSeconds: 0 };
  for (const h of hours) {
    sum.computeSeconds += h.computeSeconds;
    sum.cuSeconds += h.cuSeconds;
  }
  return sum;
}
