import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ActivityEntry } from "@/server/proxy-activity/report-activity";
import { ActivityReporter, type ActivityStore } from "./activity-reporter";

// The reporter's counting of parked, pinned and held sessions (issue 14): what it writes at each flush.
// The store records the reports it is given instead of writing them (the writing itself is tested against
// PostgreSQL in server/proxy-activity/proxy-activity.int.test.ts).

class RecordingStore implements ActivityStore {
  reports: { entries: ActivityEntry[]; forget: string[] }[] = [];
  registerProxyInstance = async () => 1;
  heartbeat = async () => true;
  unregisterProxyInstance = async () => {};
  reportActivity = async (_proxyId: string, entries: ActivityEntry[], options?: { forget?: string[] }) => {
    this.reports.push({ entries, forget: options?.forget ?? [] });
  };
  /** The last entry written for a compute. */
  last(computeId: string): ActivityEntry | undefined {
    return this.reports.flatMap((r) => r.entries).filter((e) => e.computeId === computeId).at(-1);
  }
}

const T0 = Date.parse("2026-01-01T00:00:00Z");
let store: RecordingStore;
let reporter: ActivityReporter;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  store = new RecordingStore();
  // Long timers: every flush in these tests is an explicit one.
  reporter = new ActivityReporter({ proxyId: "p", host: "h", intervalMs: 3_600_000, heartbeatMs: 3_600_000, forgetAfterMs: 60_000, store });
  await reporter.start();
});

afterEach(async () => {
  await reporter.stop();
  vi.useRealTimers();
});

describe("ActivityReporter parking counts", () => {
  it("a parked session stops counting as a connection and as activity; unparking counts it again", async () => {
    reporter.opened("c");
    reporter.opened("c");
    reporter.opened("c");
    vi.setSystemTime(T0 + 10_000);
    reporter.parked("c");
    reporter.parked("c");
    await reporter.flush();
    expect(store.last("c")).toMatchObject({ connections: 1, parked: 2, pinned: 0, lastActiveAt: new Date(T0) });

    vi.setSystemTime(T0 + 20_000);
    reporter.parkedClosed("c"); // a parked client went away: not activity
    await reporter.flush();
    expect(store.last("c")).toMatchObject({ connections: 1, parked: 1, lastActiveAt: new Date(T0) });

    vi.setSystemTime(T0 + 30_000);
    reporter.unparked("c"); // its next command re-attaches it: activity
    await reporter.flush();
    expect(store.last("c")).toMatchObject({ connections: 2, parked: 0, lastActiveAt: new Date(T0 + 30_000) });
    expect(reporter.connections("c")).toBe(2);
  });

  it("reports pinned sessions by reason with the longest idle time, and clears them", async () => {
    reporter.opened("c");
    reporter.opened("c");
    reporter.opened("c");
    reporter.pinned("c", 101, ["open transaction"], T0 - 7_200_000);
    reporter.pinned("c", 102, ["temporary table", "open transaction"], T0 - 60_000);
    await reporter.flush();
    expect(store.last("c")).toMatchObject({
      connections: 3, // pinned sessions still count as connections
      pinned: 2,
      pins: [
        { reason: "open transaction", sessions: 2, idleSince: new Date(T0 - 7_200_000) },
        { reason: "temporary table", sessions: 1, idleSince: new Date(T0 - 60_000) },
      ],
    });
    expect(reporter.sessions("c").pinned).toBe(2);

    // The same pin again is no change: nothing to write.
    const before = store.reports.length;
    reporter.pinned("c", 101, ["open transaction"], T0 - 7_200_000);
    await reporter.flush();
    expect(store.reports.length).toBe(before);

    reporter.pinned("c", 101, null); // COMMIT: no longer pinned
    reporter.pinned("c", 999, null); // never pinned: ignored
    await reporter.flush();
    expect(store.last("c")).toMatchObject({
      connections: 3,
      pinned: 1,
      pins: [
        { reason: "open transaction", sessions: 1, idleSince: new Date(T0 - 60_000) },
        { reason: "temporary table", sessions: 1, idleSince: new Date(T0 - 60_000) },
      ],
    });
  });

  it("a pin without an idle time is idle since it was first reported", async () => {
    reporter.opened("c");
    reporter.pinned("c", 7, ["LOCK TABLES"]);
    vi.setSystemTime(T0 + 5_000);
    reporter.pinned("c", 7, ["LOCK TABLES", "GET_LOCK()"]);
    await reporter.flush();
    expect(store.last("c")?.pins).toEqual([
      { reason: "GET_LOCK()", sessions: 1, idleSince: new Date(T0) },
      { reason: "LOCK TABLES", sessions: 1, idleSince: new Date(T0) },
    ]);
  });

  it("reports the full set of idle server threads, replaced by each call", async () => {
    reporter.idleServerConnections("c", [12, 5, 12]);
    await reporter.flush();
    expect(store.last("c")).toMatchObject({ connections: 0, idleThreadIds: [5, 12], lastActiveAt: new Date(T0) });
    reporter.idleServerConnections("c", [5]);
    await reporter.flush();
    expect(store.last("c")?.idleThreadIds).toEqual([5]);
    reporter.idleServerConnections("c", []);
    await reporter.flush();
    expect(store.last("c")?.idleThreadIds).toEqual([]);
  });

  it("keeps a compute with parked sessions or held threads, and forgets it once it holds nothing", async () => {
    reporter.opened("c");
    reporter.parked("c");
    reporter.idleServerConnections("d", [3]);
    await reporter.flush();
    vi.setSystemTime(T0 + 120_000);
    await reporter.flush();
    expect(store.reports.flatMap((r) => r.forget)).toEqual([]);
    expect(reporter.trackedComputes).toBe(2);

    reporter.parkedClosed("c");
    reporter.idleServerConnections("d", []);
    await reporter.flush();
    expect(store.reports.at(-1)?.forget.sort()).toEqual(["c", "d"]);
    expect(reporter.trackedComputes).toBe(0);
  });

  it("writes parked sessions, pins and held threads as gone when the proxy stops", async () => {
    reporter.opened("c");
    reporter.opened("c");
    reporter.parked("c");
    reporter.pinned("c", 1, ["XA transaction"]);
    reporter.idleServerConnections("c", [9]);
    await reporter.flush();
    vi.setSystemTime(T0 + 1_000);
    await reporter.stop();
    expect(store.last("c")).toMatchObject({ connections: 0, parked: 0, pinned: 0, pins: [], idleThreadIds: [], lastActiveAt: new Date(T0 + 1_000) });
  });
});

describe("ActivityReporter pool snapshots", () => {
  const snapshot = { serverInUse: 3, serverIdle: 2, serverLimit: 40, queued: 1, longestWaitMs: 250, waits: 12, waitMsTotal: 900, timeouts: 1 };

  it("writes the latest snapshot of each compute at the next flush, only when it changed", async () => {
    reporter.pool("c", { ...snapshot, queued: 5 });
    reporter.pool("c", snapshot); // replaces the last one
    await reporter.flush();
    expect(store.last("c")).toMatchObject({ connections: 0, pool: snapshot, lastActiveAt: new Date(T0) });

    const before = store.reports.length;
    reporter.pool("c", { ...snapshot }); // the same figures: nothing to write
    await reporter.flush();
    expect(store.reports.length).toBe(before);

    reporter.pool("c", { ...snapshot, serverInUse: 0, serverIdle: 5, queued: 0, longestWaitMs: 0, waits: 13, waitMsTotal: 1000 });
    await reporter.flush();
    expect(store.last("c")?.pool).toEqual({ ...snapshot, serverInUse: 0, serverIdle: 5, queued: 0, longestWaitMs: 0, waits: 13, waitMsTotal: 1000 });
  });

  it("keeps a compute whose pool holds connections or waiting clients, forgets it once it holds none", async () => {
    reporter.pool("c", snapshot);
    await reporter.flush();
    vi.setSystemTime(T0 + 120_000);
    await reporter.flush();
    expect(store.reports.flatMap((r) => r.forget)).toEqual([]);

    reporter.pool("c", { ...snapshot, serverInUse: 0, serverIdle: 0, queued: 0 });
    await reporter.flush();
    expect(store.reports.at(-1)?.forget).toEqual(["c"]);
    expect(reporter.trackedComputes).toBe(0);
  });

  it("writes the pool as gone when the proxy stops", async () => {
    reporter.pool("c", snapshot);
    await reporter.flush();
    await reporter.stop();
    expect(store.last("c")?.pool).toBeUndefined();
  });
});
