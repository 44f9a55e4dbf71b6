import { describe, expect, it } from "vitest";
import { bucketUsage, UsageQuerySchema } from "./usage";

const at = (iso: string) => new Date(iso);

describe("bucketUsage", () => {
  const query = UsageQuerySchema.parse({ from: "2026-01-01T00:00:00Z", to: "2026-01-01T03:00:00Z", granularity: "hour" });

  it("splits billed intervals across hours and weights by size", () => {
    const result = bucketUsage(
      [
        { state: "running", size: 0.5, startedAt: at("2026-01-01T00:30:00Z"), endedAt: at("2026-01-01T01:15:00Z") },
        { state: "paused", size: 0.5, startedAt: at("2026-01-01T01:15:00Z"), endedAt: at("2026-01-01T02:00:00Z") },
        { state: "resuming", size: 1, startedAt: at("2026-01-01T02:00:00Z"), endedAt: at("2026-01-01T02:00:02Z") },
      ],
      query,
    );
    expect(result.usage.map((b) => b.computeSeconds)).toEqual([1800, 900, 2]);
    expect(result.usage.map((b) => b.cuSeconds)).toEqual([900, 450, 2]);
    expect(result.totals).toMatchObject({ computeSeconds: 2702, cuSeconds: 1352 });
  });

  it("counts an open interval up to now and never beyond the range", () => {
    const result = bucketUsage(
      [{ state: "running", size: 1, startedAt: at("2025-12-31T23:00:00Z"), endedAt: null }],
      query,
      at("2026-01-01T01:30:00Z"),
    );
    expect(result.usage.map((b) => b.computeSeconds)).toEqual([3600, 1800, 0]);
  });
});

describe("bucketUsage with rollups", () => {
  it("takes rolled-up hours from the rollups and only the rest from the intervals", () => {
    const query = UsageQuerySchema.parse({ from: "2026-01-01T00:30:00Z", to: "2026-01-01T03:00:00Z", granularity: "hour" });
    const open = [{ state: "running", size: 1, startedAt: at("2025-12-31T23:00:00Z"), endedAt: null }];
    const window = { from: at("2026-01-01T01:00:00Z"), to: at("2026-01-01T02:00:00Z") };
    // The rollup says 100 s for 01:00 (whatever the intervals say): proof that it is the one read.
    const hours = [{ hourStart: at("2026-01-01T01:00:00Z"), computeSeconds: 100, cuSeconds: 50 }];
    const result = bucketUsage(open, query, at("2026-01-01T02:30:00Z"), { window, hours });
    expect(result.usage.map((b) => b.computeSeconds)).toEqual([1800, 100, 1800]);
    expect(result.totals).toMatchObject({ computeSeconds: 3700, cuSeconds: 3650 });
  });
});

describe("bucketUsage storage", () => {
  it("sums each compute's last sample in a bucket", () => {
    const query = UsageQuerySchema.parse({ from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z", granularity: "day" });
    const samples = [
      { computeId: "a", hourStart: at("2026-01-01T05:00:00Z"), bytes: 100n },
      { computeId: "a", hourStart: at("2026-01-01T06:00:00Z"), bytes: 150n },
      { computeId: "b", hourStart: at("2026-01-01T01:00:00Z"), bytes: 1000n },
    ];
    const result = bucketUsage([], query, at("2026-01-03T00:00:00Z"), undefined, samples);
    expect(result.usage.map((b) => b.storageBytes)).toEqual([1150, null]);
  });
});

describe("UsageQuerySchema", () => {
  it("clamps the future to now", () => {
    const q = UsageQuerySchema.parse({ to: "2999-01-01T00:00:00Z", granularity: "day" });
    expect(q.to.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("refuses a reversed or oversized range", () => {
    expect(UsageQuerySchema.safeParse({ from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }).success).toBe(false);
    expect(UsageQuerySchema.safeParse({ from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", granularity: "hour" }).success).toBe(false);
    expect(UsageQuerySchema.safeParse({ from: "yesterday" }).success).toBe(false);
  });
});
