import { describe, expect, it } from "vitest";
import { AuthThrottle } from "./throttle";

describe("AuthThrottle", () => {
  it("lets a few failures through, then doubles the delay up to the cap", () => {
    const t = new AuthThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = Array.from({ length: 8 }, (_, i) => t.fail("10.0.0.1", 1000 + i));
    expect(delays).toEqual([0, 0, 100, 200, 400, 800, 1000, 1000]);
  });

  it("keeps addresses apart and forgets old failures", () => {
    const t = new AuthThrottle({ freeFailures: 1, baseDelayMs: 100, windowMs: 1000 });
    t.fail("a", 0);
    expect(t.fail("a", 10)).toBe(100);
    expect(t.fail("b", 10)).toBe(0);
    expect(t.fail("a", 5000)).toBe(0);
  });

  it("counts failures other workers saw towards the next delay", () => {
    const told: [string, number][] = [];
    const w0 = new AuthThrottle({ freeFailures: 2, baseDelayMs: 100, publish: (a, at) => told.push([a, at]) });
    const w1 = new AuthThrottle({ freeFailures: 2, baseDelayMs: 100 });
    expect([w0.fail("a", 1), w0.fail("a", 2), w0.fail("a", 3)]).toEqual([0, 0, 100]);
    for (const [a, at] of told) w1.applyRemoteFailure(a, at);
    expect(w1.fail("a", 4)).toBe(200);
  });

  it("bounds the addresses it remembers", () => {
    const t = new AuthThrottle({ maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) t.fail(`addr-${i}`, 0);
    expect(t.trackedAddresses).toBeLessThanOrEqual(100);
  });
});
