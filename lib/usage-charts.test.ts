import { describe, expect, it } from "vitest";
import { byteScale, computeHoursByProject, cuHoursText, cumulativeMonth, dayLabel, storageByDay, timeScale, utcDays } from "./usage-charts";
import type { UsageBucket, UsageByProjectReply, UsageReply } from "./usage-types";

// The billing charts' rows from injected replies.

const bucket = (start: string, computeSeconds: number, storageBytes: number | null = null): UsageBucket => ({
  start,
  computeSeconds,
  cuSeconds: computeSeconds / 4,
  storageBytes,
  bytesIn: 0,
  bytesOut: 0,
});
const totals = { computeSeconds: 0, cuSeconds: 0, bytesIn: 0, bytesOut: 0 };

const reply: UsageByProjectReply = {
  from: "2026-03-01T00:00:00.000Z",
  to: "2026-03-03T10:00:00.000Z",
  granularity: "day",
  projects: [
    {
      projectId: "a",
      name: "Shop",
      slug: "shop-1",
      totals,
      usage: [bucket("2026-03-01T00:00:00.000Z", 3600, 1000), bucket("2026-03-02T00:00:00.000Z", 0), bucket("2026-03-03T00:00:00.000Z", 1800, 3000)],
    },
    {
      projectId: null,
      name: "Deleted projects",
      slug: null,
      totals,
      usage: [bucket("2026-03-01T00:00:00.000Z", 7200, 500), bucket("2026-03-02T00:00:00.000Z", 0), bucket("2026-03-03T00:00:00.000Z", 0)],
    },
  ],
};

describe("usage chart rows", () => {
  it("labels UTC days and lists every day of the range, today included", () => {
    expect(dayLabel("2026-03-01T00:00:00.000Z")).toBe("Mar 1");
    expect(utcDays(reply.from, reply.to)).toEqual(["2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z"]);
  });

  it("stacks compute seconds by project, one column each", () => {
    const { series, rows } = computeHoursByProject(reply);
    expect(series).toEqual([
      { key: "p0", name: "Shop" },
      { key: "p1", name: "Deleted projects" },
    ]);
    expect(rows.map(({ label, p0, p1 }) => [label, p0, p1])).toEqual([
      ["Mar 1", 3600, 7200],
      ["Mar 2", 0, 0],
      ["Mar 3", 1800, 0],
    ]);
  });

  it("sums storage over projects per day, null where nothing was sampled", () => {
    expect(storageByDay(reply).map((r) => r.bytes)).toEqual([1500, null, 3000]);
  });

  it("accumulates the month's CU-hours up to today, then draws the estimate to the month's end", () => {
    const usage: UsageReply = {
      from: "2026-02-01T00:00:00.000Z",
      to: "2026-02-03T12:00:00.000Z",
      granularity: "day",
      totals,
      usage: [bucket("2026-02-01T00:00:00.000Z", 4 * 3600), bucket("2026-02-02T00:00:00.000Z", 0), bucket("2026-02-03T00:00:00.000Z", 8 * 3600)],
    };
    const rows = cumulativeMonth(usage, 28, new Date("2026-02-03T12:00:00Z"));
    expect(rows).toHaveLength(28);
    expect(rows.slice(0, 4).map((r) => [r.label, r.used, r.projected])).toEqual([
      ["Feb 1", 1, null],
      ["Feb 2", 1, null],
      ["Feb 3", 3, 3],
      ["Feb 4", null, 4],
    ]);
    expect(rows.at(-1)).toMatchObject({ label: "Feb 28", used: null, projected: 28 });
  });

  it("picks a time axis unit that keeps small days visible, and keeps small CU-hours' digits", () => {
    expect([timeScale(0), timeScale(59), timeScale(60), timeScale(3599), timeScale(3600)].map((s) => s.unit)).toEqual(["s", "s", "min", "min", "h"]);
    expect([byteScale(0), byteScale(1023), byteScale(35_000_000), byteScale(3 * 1024 ** 3)].map((s) => s.unit)).toEqual(["B", "B", "MiB", "GiB"]);
    expect([cuHoursText(0), cuHoursText(0.00416), cuHoursText(12.345)]).toEqual(["0", "0.0042", "12.35"]);
  });
});
