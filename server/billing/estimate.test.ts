import { describe, expect, it } from "vitest";
import { estimateCharges, projectToMonth } from "./estimate";
import { PLANS, planThatLifts } from "./plans";

describe("estimateCharges", () => {
  it("charges only past the included amounts, at the plan's prices", () => {
    const pro = PLANS.pro;
    const charges = estimateCharges(pro, { cuHours: pro.included.cuHours + 10, storageGbMonths: pro.included.storageGbMonths + 2, transferGb: 0 });
    expect(charges.computeUsd).toBe(Math.round(10 * pro.prices.perCuHour * 100) / 100);
    expect(charges.storageUsd).toBe(Math.round(2 * pro.prices.perGbMonth * 100) / 100);
    expect(charges.transferUsd).toBe(0);
    expect(charges.totalUsd).toBe(Math.round((pro.baseMonthly + charges.computeUsd + charges.storageUsd) * 100) / 100);
  });

  it("costs nothing on free", () => {
    expect(estimateCharges(PLANS.free, { cuHours: 99, storageGbMonths: 1, transferGb: 5 }).totalUsd).toBe(0);
  });

  it("projects month-to-date use to the month", () => {
    expect(projectToMonth({ cuHours: 10, storageGbMonths: 0.5, transferGb: 1 }, 0.5)).toEqual({ cuHours: 20, storageGbMonths: 1, transferGb: 2 });
  });
});

describe("planThatLifts", () => {
  it("names the first plan above whose limit admits the request", () => {
    expect(planThatLifts("free", (l) => l.projects === null || l.projects >= 11)).toBe("pro");
    expect(planThatLifts("free", (l) => l.projects === null || l.projects >= 1000)).toBe("enterprise");
    expect(planThatLifts("pro", (l) => l.maxComputeSize >= 16)).toBeNull();
  });

  it("every plan has prices, included amounts and limits", () => {
    for (const plan of Object.values(PLANS)) {
      expect(plan.prices.perCuHour).toBeGreaterThanOrEqual(0);
      expect(plan.included.cuHours).toBeGreaterThan(0);
      expect(plan.limits.maxComputeSize).toBeGreaterThan(0);
    }
  });
});
