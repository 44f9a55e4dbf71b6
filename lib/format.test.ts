import { describe, expect, it } from "vitest";
import { duration, exactTime, relativeTime, seconds } from "./format";

describe("console formatting", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  it("says times relative to now, with the exact time available", () => {
    expect(relativeTime(new Date("2026-11-27T11:57:00Z"), now)).toBe("3 minutes ago");
    expect(relativeTime(new Date("2026-11-27T12:05:00Z"), now)).toBe("in 5 minutes");
    expect(relativeTime(now, now)).toBe("just now");
    expect(exactTime(now)).toBe("2026-11-27 12:00:00 UTC");
  });
  it("says durations in a person's units", () => {
    expect(duration(850)).toBe("850 ms");
    expect(duration(2400)).toBe("2.4 s");
    expect(seconds(300)).toBe("5 min");
    expect(seconds(5400)).toBe("1 h 30 min");
    expect(seconds(0)).toBe("0 s");
  });
});
