import { describe, expect, it } from "vitest";
import { usageCsv, usageCsvFileName } from "./csv";
import { bucketUsage, UsageQuerySchema } from "./usage";

describe("usageCsv", () => {
  it("writes one row per bucket with CU-hours", () => {
    const query = UsageQuerySchema.parse({ from: "2026-03-04T10:00:00Z", to: "2026-03-04T12:00:00Z", granularity: "hour", format: "csv" });
    const reply = bucketUsage(
      [{ state: "running", size: 0.5, startedAt: new Date("2026-03-04T10:00:00Z"), endedAt: new Date("2026-03-04T10:30:00Z") }],
      query,
      new Date("2026-03-05T00:00:00Z"),
    );
    expect(usageCsv(reply).split("\r\n")).toEqual([
      "start,computeSeconds,cuSeconds,cuHours,storageBytes,bytesIn,bytesOut",
      "2026-03-04T10:00:00.000Z,1800,900,0.25,,0,0",
      "2026-03-04T11:00:00.000Z,0,0,0,,0,0",
      "",
    ]);
    expect(usageCsvFileName("org", reply)).toBe("usage-org-2026-03-04T100000Z-2026-03-04T120000Z.csv");
  });

  it("allows a year of hours in an export, not in a JSON reply", () => {
    const range = { from: "2025-03-01T00:00:00Z", to: "2026-03-01T00:00:00Z", granularity: "hour" };
    expect(UsageQuerySchema.safeParse({ ...range, format: "csv" }).success).toBe(true);
    expect(UsageQuerySchema.safeParse(range).success).toBe(false);
  });
});
