import { describe, expect, it } from "vitest";
import { capStatus, spendCapError, thresholdReached } from "./spend-cap";
import { spendAlertReason } from "./spend-alerts";

describe("spend cap", () => {
  it("reaches 80 % and 100 % of the cap, and nothing without one", () => {
    expect(thresholdReached(null, 1_000)).toBeNull();
    expect(thresholdReached(100, 79.99)).toBeNull();
    expect(thresholdReached(100, 80)).toBe(80);
    expect(thresholdReached(100, 99.99)).toBe(80);
    expect(thresholdReached(100, 100)).toBe(100);
    expect(thresholdReached(100, 250)).toBe(100);
  });

  it("says the month the figures are for, from the clock it is given", () => {
    const status = capStatus(20, 19, new Date("2027-01-31T23:59:59Z"));
    expect(status).toEqual({ capUsd: 20, spentUsd: 19, share: 0.95, threshold: 80, month: "2027-01-01T00:00:00.000Z" });
  });

  it("reaches 80 % exactly at 80 % although the division would fall short in floating point ($1.20 of $1.50)", () => {
    expect(thresholdReached(1.5, 1.2)).toBe(80);
    expect(thresholdReached(1.5, 1.19)).toBeNull();
    expect(capStatus(1.5, 1.2, new Date("2026-12-15T10:00:00Z")).threshold).toBe(80);
  });

  it("names the cap, the spend, how to raise it and when the month turns", () => {
    const now = new Date("2026-12-15T10:00:00Z");
    const error = spendCapError(capStatus(20, 20.6, now), now);
    expect(error.code).toBe("quota_exceeded");
    expect(error.message).toBe(
      'the organization has reached its monthly spend cap of $20.00 ($20.60 spent this month); raise the cap (Spend cap on the console\'s Billing page, or PATCH /api/v1/billing {"spendCapUsd": <a higher amount or null>}) to go on at once, or wait for the next month (2027-01-01T00:00:00.000Z)',
    );
    expect(error.details).toEqual([expect.objectContaining({ limit: "spendCapUsd", max: 20, current: 20.6 })]);
  });

  it("writes no amount into the operations log's alert (members and viewers read it), only where to see them", () => {
    for (const threshold of [80, 100] as const) {
      const reason = spendAlertReason(threshold);
      expect(reason).toContain(`${threshold} %`);
      expect(reason).toContain("owners and admins see the amounts on the Billing page");
      expect(reason).not.toMatch(/\$|\d+\.\d\d/);
    }
  });
});
