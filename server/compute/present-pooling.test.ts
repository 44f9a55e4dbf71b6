import { describe, expect, it } from "vitest";
import { NO_POOL_ACTIVITY, type ComputeActivity } from "../proxy-activity/live-activity";
import { presentPooling } from "./present-pooling";

// The status's `pooling` (issue 15) from the proxies' summed activity: client sessions are attached and
// parked ones, the average wait is the summed wait time over the ended waits.

function activity(fields: Partial<ComputeActivity>): ComputeActivity {
  return { connections: 0, parked: 0, pinned: 0, pins: [], lastActiveAt: null, pool: { ...NO_POOL_ACTIVITY }, ...fields };
}

describe("presentPooling", () => {
  it("shows the sums the proxies reported, with the average wait", () => {
    const reply = presentPooling(
      true,
      activity({
        connections: 30,
        pinned: 2,
        parked: 70,
        pool: { serverInUse: 8, serverIdle: 4, serverLimit: 240, queued: 3, longestWaitMs: 420, waits: 8, waitMsTotal: 1003, timeouts: 2 },
      }),
    );
    expect(reply).toEqual({
      enabled: true,
      clientSessions: 100,
      serverConnections: { inUse: 8, idle: 4, limit: 240 },
      queue: { waiting: 3, longestWaitMs: 420, averageWaitMs: 125, timeouts: 2 },
    });
  });

  it("is all zeros, with the switch as set, when no proxy reports the compute", () => {
    expect(presentPooling(false, undefined)).toEqual({
      enabled: false,
      clientSessions: 0,
      serverConnections: { inUse: 0, idle: 0, limit: 0 },
      queue: { waiting: 0, longestWaitMs: 0, averageWaitMs: 0, timeouts: 0 },
    });
    // No wait ended yet: no average (not a division by zero).
    expect(presentPooling(true, activity({ connections: 1, pool: { ...NO_POOL_ACTIVITY, queued: 1, longestWaitMs: 50 } })).queue).toEqual({
      waiting: 1,
      longestWaitMs: 50,
      averageWaitMs: 0,
      timeouts: 0,
    });
  });
});
