import type { UsageByProjectReply, UsageReply } from "./usage-types";

// The billing charts' data, pure: usage replies turned into one row per UTC day, as the charts and their
// tables (the text alternative) show them.

const DAY_MS = 86_400_000;

/** "Nov 3": a UTC day as people read it (the API's days are UTC days). */
export function dayLabel(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** The start of every UTC day in [from, to), as the usage API buckets them. */
export function utcDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Math.floor(Date.parse(from) / DAY_MS) * DAY_MS; t < Date.parse(to); t += DAY_MS) days.push(new Date(t).toISOString());
  return days;
}

/**
 * The unit a time axis reads best in, for a largest value of `maxSeconds`: seconds under a minute, minutes
 * under an hour, hours above (a new compute's first minutes are still bars, not slivers of an hour).
 */
export function timeScale(maxSeconds: number): { per: number; unit: string } {
  if (maxSeconds < 60) return { per: 1, unit: "s" };
  if (maxSeconds < 3600) return { per: 60, unit: "min" };
  return { per: 3600, unit: "h" };
}

/** The binary unit a storage axis reads best in for a largest value of `maxBytes` (as lib/format's bytes()). */
export function byteScale(maxBytes: number): { per: number; unit: string } {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (maxBytes >= 1024 ** (i + 1) && i < units.length - 1) i++;
  return { per: 1024 ** i, unit: units[i]! };
}

/** CU-hours for people: small amounts keep their digits ("0.0042"), larger ones two decimals. */
export function cuHoursText(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: n !== 0 && Math.abs(n) < 1 ? 4 : 2 });
}

export interface StackedRows {
  /** One series per project: `key` names its column in `rows`. */
  series: { key: string; name: string }[];
  rows: ({ start: string; label: string } & Record<string, number | string>)[];
}

/** Compute seconds per UTC day, one column per project (stacked in the chart). */
export function computeHoursByProject(reply: UsageByProjectReply): StackedRows {
  const series = reply.projects.map((p, i) => ({ key: `p${i}`, name: p.name }));
  const rows = utcDays(reply.from, reply.to).map((start) => {
    const row: StackedRows["rows"][number] = { start, label: dayLabel(start) };
    reply.projects.forEach((p, i) => {
      row[`p${i}`] = p.usage.find((b) => b.start === start)?.computeSeconds ?? 0;
    });
    return row;
  });
  return { series, rows };
}

/** Storage per UTC day: each project's last sample of the day, summed; null on days nothing was sampled. */
export function storageByDay(reply: UsageByProjectReply): { start: string; label: string; bytes: number | null }[] {
  return utcDays(reply.from, reply.to).map((start) => {
    const samples = reply.projects.map((p) => p.usage.find((b) => b.start === start)?.storageBytes ?? null).filter((b): b is number => b !== null);
    return { start, label: dayLabel(start), bytes: samples.length ? samples.reduce((a, b) => a + b, 0) : null };
  });
}

export interface MonthRow {
  start: string;
  label: string;
  /** CU-hours used from the month's first day to this day's end; null after today. */
  used: number | null;
  /** The month's estimate drawn from today to the month's last day at today's rate; null before today. */
  projected: number | null;
}

/**
 * The month's CU-hours, cumulative per UTC day up to today, then the billing estimate's straight line to
 * the month's last day (what the allowance is measured against).
 */
export function cumulativeMonth(usage: UsageReply, estimateCuHours: number, now: Date): MonthRow[] {
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const perDay = new Map(usage.usage.map((b) => [Date.parse(b.start), b.cuSeconds / 3600]));
  const rows: MonthRow[] = [];
  let sum = 0;
  let usedToday = 0;
  for (let t = monthStart; t < monthEnd; t += DAY_MS) {
    if (t <= today) {
      sum += perDay.get(t) ?? 0;
      usedToday = sum;
    }
    rows.push({ start: new Date(t).toISOString(), label: dayLabel(new Date(t).toISOString()), used: t <= today ? round3(sum) : null, projected: null });
  }
  const remaining = (monthEnd - DAY_MS - today) / DAY_MS;
  for (const row of rows) {
    const t = Date.parse(row.start);
    if (t < today) continue;
    const k = remaining > 0 ? (t - today) / DAY_MS / remaining : 1;
    row.projected = round3(usedToday + (Math.max(estimateCuHours, usedToday) - usedToday) * k);
  }
  return rows;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
