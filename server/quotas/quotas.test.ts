import { describe, expect, it } from "vitest";
import { cuHoursExceededError, quotaOf } from "./quotas";

describe("quotaOf", () => {
  it("uses the plan's CU-hours unless the organization carries its own", () => {
    expect(quotaOf("free", null, 100 * 3600 - 1).exceeded).toBe(false);
    expect(quotaOf("free", null, 100 * 3600).exceeded).toBe(true);
    expect(quotaOf("free", 5, 5 * 3600).exceeded).toBe(true);
    expect(quotaOf("enterprise", null, 1e12)).toMatchObject({ exceeded: false, limitCuSeconds: null });
  });
});

describe("cuHoursExceededError", () => {
  it("says how to go on: the plan that lifts it, and when the month ends", () => {
    const error = cuHoursExceededError("free", quotaOf("free", null, 150 * 3600), new Date("2026-02-10T12:00:00Z"));
    expect(error.code).toBe("quota_exceeded");
    expect(error.message).toBe(
      'the organization has used its 100 CU-hours of compute for this month; upgrade the plan to pro (Upgrade on the console\'s Billing page, or PATCH /api/v1/billing {"plan": "pro"}) to go on at once, or wait for the next month (2026-03-01T00:00:00.000Z)',
    );
    expect(error.details).toEqual([expect.objectContaining({ limit: "cuHoursPerMonth", max: 100, currentPlan: "free", plan: "pro" })]);
    // Past pro's 2000 too: enterprise is the plan that lifts it.
    expect(cuHoursExceededError("free", quotaOf("free", null, 3000 * 3600)).details[0]).toMatchObject({ plan: "enterprise" });
  });
});
