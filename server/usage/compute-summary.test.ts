import { describe, expect, it } from "vitest";
import { percentile, stateGroup, summarizeCompute, utcDayOf, type StateInterval, type WakeSample } from "./compute-summary";
import { savingsPrice } from "./compute-usage";

// The per-compute usage panel's figures from injected intervals and wakes, with an injected clock.

const at = (iso: string) => new Date(iso);
const interval = (state: string, size: number, from: string, to: string | null): StateInterval => ({
  state,
  size,
  startedAt: at(from),
  endedAt: to === null ? null : at(to),
});
const wake = (kind: string, when: string, durationMs: number): WakeSample => ({ kind, startedAt: at(when), durationMs });
const price = { perCuHour: 0.16, plan: "pro" };

describe("percentile", () => {
  it("is the nearest rank: a latency some client saw", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([700], 90)).toBe(700);
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 90)).toBe(90);
    expect(percentile([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 90)).toBe(9);
  });
});

describe("stateGroup", () => {
  it("counts billed states as running and suspending as suspended", () => {
    expect(["running", "resuming", "paused", "suspending", "suspended", "provisioning", "failed"].map(stateGroup)).toEqual([
      "running",
      "running",
      "paused",
      "suspended",
      "suspended",
      "other",
      "other",
    ]);
  });
});

describe("summarizeCompute", () => {
  it("splits time by state and by UTC day, clipping to the window, an open interval up to now", () => {
    const s = summarizeCompute({
      intervals: [
        interval("running", 1, "2026-03-01T20:00:00Z", "2026-03-02T02:00:00Z"), // 4 h before the window, 2 h in it
        interval("paused", 1, "2026-03-02T02:00:00Z", "2026-03-02T03:00:00Z"),
        interval("suspending", 1, "2026-03-02T03:00:00Z", "2026-03-02T03:00:01Z"),
        interval("suspended", 1, "2026-03-02T03:00:01Z", "2026-03-03T22:00:00Z"), // crosses midnight
        interval("resuming", 1, "2026-03-03T22:00:00Z", "2026-03-03T22:00:02Z"),
        interval("running", 1, "2026-03-03T22:00:02Z", null), // open: up to now
      ],
      wakes: [],
      from: at("2026-03-02T00:00:00Z"),
      to: at("2026-03-04T01:00:00Z"),
      price,
    });
    expect(s.days.map((d) => d.date)).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);
    expect(s.days.map((d) => d.seconds)).toEqual([
      { running: 7200, paused: 3600, suspended: 21 * 3600, other: 0 },
      { running: 7200, paused: 0, suspended: 22 * 3600, other: 0 },
      { running: 3600, paused: 0, suspended: 0, other: 0 },
    ]);
    expect(s.seconds).toEqual({ running: 5 * 3600, paused: 3600, suspended: 43 * 3600, other: 0 });
    // Every day's hours add up to the day (today up to now).
    expect(s.days.map((d) => d.seconds.running + d.seconds.paused + d.seconds.suspended + d.seconds.other)).toEqual([86400, 86400, 3600]);
  });

  it("prices what pausing and suspending saved against running all the time, each interval at its size", () => {
    const s = summarizeCompute({
      intervals: [
        interval("running", 0.5, "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"), // 0.25 CU-hours billed
        interval("paused", 0.5, "2026-03-02T10:30:00Z", "2026-03-02T11:30:00Z"), // 0.5 saved
        interval("suspended", 2, "2026-03-02T11:30:00Z", "2026-03-02T21:30:00Z"), // 20 saved
        interval("failed", 2, "2026-03-02T21:30:00Z", "2026-03-02T22:30:00Z"), // neither
      ],
      wakes: [],
      from: at("2026-03-02T00:00:00Z"),
      to: at("2026-03-03T00:00:00Z"),
      price,
    });
    expect(s.cuHours).toBe(0.25);
    expect(s.savings).toEqual({ cuHours: 20.5, usd: 3.28, pricePerCuHour: 0.16, pricePlan: "pro" });
    expect(s.alwaysOnCuHours).toBe(20.75);
    expect(s.seconds.other).toBe(3600);
  });

  it("counts wakes per UTC day by kind and their latency percentiles, warm and cold apart", () => {
    const s = summarizeCompute({
      intervals: [],
      wakes: [
        wake("warm", "2026-03-02T00:00:00Z", 12), // the first instant of the day
        wake("warm", "2026-03-02T23:59:59.999Z", 30),
        wake("warm", "2026-03-03T08:00:00Z", 20),
        wake("cold", "2026-03-03T09:00:00Z", 900),
        wake("cold", "2026-03-03T10:00:00Z", 400),
        wake("joined", "2026-03-03T10:00:00.100Z", 310),
        wake("cold", "2026-03-01T23:59:59Z", 5000), // before the window
      ],
      from: at("2026-03-02T00:00:00Z"),
      to: at("2026-03-03T12:00:00Z"),
      price,
    });
    expect(s.days.map((d) => [d.date, d.wakes])).toEqual([
      ["2026-03-02", { warm: 2, cold: 0, joined: 0 }],
      ["2026-03-03", { warm: 1, cold: 2, joined: 1 }],
    ]);
    expect(s.wakeLatency).toEqual({
      warm: { count: 3, p50Ms: 20, p90Ms: 30 },
      cold: { count: 2, p50Ms: 400, p90Ms: 900 },
      joined: { count: 1, p50Ms: 310, p90Ms: 310 },
    });
  });

  it("has a row for every day of an empty window and no latency without wakes", () => {
    const s = summarizeCompute({ intervals: [], wakes: [], from: at("2026-02-27T00:00:00Z"), to: at("2026-03-01T00:00:01Z"), price });
    expect(s.days.map((d) => d.date)).toEqual(["2026-02-27", "2026-02-28", "2026-03-01"]);
    expect(s.wakeLatency.warm).toEqual({ count: 0, p50Ms: null, p90Ms: null });
    expect(s.savings.usd).toBe(0);
  });

  it("uses UTC days whatever the offset of the instants", () => {
    expect(new Date(utcDayOf(Date.parse("2026-03-02T23:30:00-05:00"))).toISOString()).toBe("2026-03-03T00:00:00.000Z");
  });
});

describe("savingsPrice", () => {
  it("is the plan's price, or the first paid plan's for a plan without one", () => {
    expect(savingsPrice("pro")).toEqual({ perCuHour: 0.16, plan: "pro" });
    expect(savingsPrice("enterprise")).toEqual({ perCuHour: 0.14, plan: "enterprise" });
    expect(savingsPrice("free")).toEqual({ perCuHour: 0.16, plan: "pro" });
  });
});
