import { describe, expect, it } from "vitest";
import { sessionsSummary } from "./sessions-summary";

describe("sessionsSummary", () => {
  it("says parked and pinned sessions with the pin's reason and idle time", () => {
    expect(
      sessionsSummary({ active: 0, parked: 3, pinned: 1, pins: [{ reason: "open transaction", sessions: 1, idleSeconds: 7200 }] }),
    ).toBe("3 sessions parked, 1 pinned: open transaction, idle 2 h");
  });

  it("names each reason with its count when there are several, and the longest idle time", () => {
    expect(
      sessionsSummary({
        active: 1,
        parked: 0,
        pinned: 2,
        pins: [
          { reason: "open transaction", sessions: 2, idleSeconds: 90 },
          { reason: "temporary table", sessions: 1, idleSeconds: 600 },
        ],
      }),
    ).toBe("1 session active, 2 pinned: open transaction (2), temporary table (1), idle 10 min");
  });

  it("says nothing when no session is held, and only counts when nothing is pinned", () => {
    expect(sessionsSummary({ active: 0, parked: 0, pinned: 0, pins: [] })).toBeNull();
    expect(sessionsSummary({ active: 2, parked: 1, pinned: 0, pins: [] })).toBe("2 sessions active, 1 parked");
  });
});
