import { describe, expect, it } from "vitest";
import { coldReason, effectiveColdAfter, pauseReason, plannedColdAfter } from "./idle-policy";

describe("adaptive cold-after", () => {
  it("goes cold sooner when rarely woken and later when woken often", () => {
    expect(effectiveColdAfter(3600, 0, 60)).toEqual({ seconds: 900, factor: 0.25, wakes: 0 });
    expect(effectiveColdAfter(3600, 3, 60)?.seconds).toBe(3600);
    expect(effectiveColdAfter(3600, 7, 60)?.seconds).toBe(7200);
    expect(effectiveColdAfter(3600, 50, 60)?.seconds).toBe(14400);
  });

  it("stays within the settings' bounds", () => {
    expect(effectiveColdAfter(120, 0, 60)?.seconds).toBe(60); // never below the deployment's minimum
    expect(effectiveColdAfter(7 * 24 * 3600, 50, 60)?.seconds).toBe(7 * 24 * 3600); // never above 7 days
    expect(effectiveColdAfter(0, 50, 60)).toBeNull(); // 0 = never go cold, whatever the usage
  });

  it("names the rule in the reason", () => {
    expect(pauseReason(300)).toBe("idle for 300 s with no connections");
    expect(coldReason(3600, { seconds: 3600, factor: 1, wakes: 2 }, 3600)).toBe("paused for 3600 s, went cold");
    expect(coldReason(900, { seconds: 900, factor: 0.25, wakes: 0 }, 3600)).toBe(
      "paused for 900 s, went cold (adaptive: rarely used, woken 0 times in 24 h, cold after 900 s instead of 3600 s)",
    );
  });

  it("keeps a paused compute warm no longer than its plan allows, also one set to never go cold", () => {
    const free = { name: "free", maxSeconds: 3600 };
    const pro = { name: "pro", maxSeconds: null };
    // Woken often, the adaptive rule would wait four hours; the free plan says one.
    expect(plannedColdAfter(3600, 50, 60, free)).toMatchObject({ seconds: 3600, planCap: { plan: "free", seconds: 3600 } });
    expect(plannedColdAfter(3600, 50, 60, pro)?.seconds).toBe(14400);
    // 0 (never) is a paid plan's: on free (an organization moved down) it is the plan's hour.
    expect(plannedColdAfter(0, 0, 60, free)?.seconds).toBe(900);
    expect(plannedColdAfter(0, 50, 60, free)?.seconds).toBe(3600);
    expect(plannedColdAfter(0, 50, 60, pro)).toBeNull();
    // Within the bound nothing changes.
    expect(plannedColdAfter(1800, 2, 60, free)).toEqual({ seconds: 1800, factor: 1, wakes: 2 });
    expect(coldReason(3700, { seconds: 3600, factor: 4, wakes: 50, planCap: { plan: "free", seconds: 3600 } }, 3600)).toBe(
      "paused for 3700 s, went cold (the free plan keeps a paused compute warm for at most 3600 s)",
    );
  });
});
