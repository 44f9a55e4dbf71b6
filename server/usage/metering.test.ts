import { describe, expect, it } from "vitest";
import { HOUR_MS, meterByHour, total, type MeteredInterval } from "./metering";

// Accounting with an injected clock: every figure here is exact, to the second.

const at = (iso: string) => new Date(iso);
const run = (size: number, from: string, to: string | null, state = "running"): MeteredInterval => ({
  state,
  size,
  startedAt: at(from),
  endedAt: to === null ? null : at(to),
});
const all = { from: at("2000-01-01T00:00:00Z"), to: at("2100-01-01T00:00:00Z") };
const hoursOf = (m: Map<number, { computeSeconds: number; cuSeconds: number }>) =>
  Object.fromEntries([...m].map(([h, v]) => [new Date(h).toISOString(), v]));

describe("meterByHour", () => {
  it("counts 0.5 CU running 10:00:00-10:30:00 as 0.25 CU-hours", () => {
    const hours = meterByHour([run(0.5, "2026-03-04T10:00:00Z", "2026-03-04T10:30:00Z")], all, at("2026-03-04T12:00:00Z"));
    expect(total(hours.values())).toEqual({ computeSeconds: 1800, cuSeconds: 900 });
    expect(total(hours.values()).cuSeconds / 3600).toBe(0.25);
    expect(hoursOf(hours)).toEqual({ "2026-03-04T10:00:00.000Z": { computeSeconds: 1800, cuSeconds: 900 } });
  });

  it("splits suspend/resume cycles across an hour boundary, counting only billed states", () => {
    const intervals = [
      run(1, "2026-03-04T10:50:00Z", "2026-03-04T10:50:02Z", "resuming"),
      run(1, "2026-03-04T10:50:02Z", "2026-03-04T11:10:00Z"),
      run(1, "2026-03-04T11:10:00Z", "2026-03-04T11:20:00Z", "paused"),
      run(1, "2026-03-04T11:20:00Z", "2026-03-04T11:20:01Z", "resuming"),
      run(1, "2026-03-04T11:20:01Z", "2026-03-04T11:30:00Z"),
      run(1, "2026-03-04T11:30:00Z", "2026-03-04T12:30:00Z", "suspended"),
    ];
    const hours = meterByHour(intervals, all, at("2026-03-04T13:00:00Z"));
    expect(hoursOf(hours)).toEqual({
      "2026-03-04T10:00:00.000Z": { computeSeconds: 600, cuSeconds: 600 },
      "2026-03-04T11:00:00.000Z": { computeSeconds: 1200, cuSeconds: 1200 },
    });
  });

  it("splits an interval across a day and a month boundary (UTC)", () => {
    const intervals = [
      run(2, "2026-01-31T23:59:30Z", "2026-02-01T00:00:45Z"),
      run(0.25, "2026-02-01T00:30:00Z", "2026-02-01T00:30:10Z", "paused"),
      run(0.25, "2026-02-01T00:30:10Z", "2026-02-01T01:00:00Z"),
    ];
    const hours = meterByHour(intervals, all, at("2026-02-02T00:00:00Z"));
    expect(hoursOf(hours)).toEqual({
      "2026-01-31T23:00:00.000Z": { computeSeconds: 30, cuSeconds: 60 },
      "2026-02-01T00:00:00.000Z": { computeSeconds: 45 + 1790, cuSeconds: 90 + 447.5 },
    });
    // A month's bill takes only its own seconds.
    const february = meterByHour(intervals, { from: at("2026-02-01T00:00:00Z"), to: at("2026-03-01T00:00:00Z") }, at("2026-03-01T00:00:00Z"));
    expect(total(february.values())).toEqual({ computeSeconds: 1835, cuSeconds: 537.5 });
  });

  it("counts an open interval up to now, the still-open hour included, and no further", () => {
    const open = [run(0.5, "2026-03-04T09:45:00Z", null)];
    const hours = meterByHour(open, all, at("2026-03-04T11:15:30Z"));
    expect(hoursOf(hours)).toEqual({
      "2026-03-04T09:00:00.000Z": { computeSeconds: 900, cuSeconds: 450 },
      "2026-03-04T10:00:00.000Z": { computeSeconds: 3600, cuSeconds: 1800 },
      "2026-03-04T11:00:00.000Z": { computeSeconds: 930, cuSeconds: 465 },
    });
    // A range that ends before now stops at its end.
    const clipped = meterByHour(open, { from: at("2026-03-04T10:00:00Z"), to: at("2026-03-04T10:30:00Z") }, at("2026-03-04T11:15:30Z"));
    expect(total(clipped.values())).toEqual({ computeSeconds: 1800, cuSeconds: 900 });
  });

  it("keys hours by their UTC start", () => {
    const hours = meterByHour([run(1, "2026-03-04T10:00:00Z", "2026-03-04T12:00:00Z")], all, at("2026-03-05T00:00:00Z"));
    expect([...hours.keys()].map((h) => h % HOUR_MS)).toEqual([0, 0]);
  });
});
