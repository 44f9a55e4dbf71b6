import { describe, expect, it } from "vitest";
import type { ComputePooling } from "./api-types";
import { poolingSummary } from "./pooling-summary";

function pooling(fields: Partial<ComputePooling> = {}): ComputePooling {
  return {
    enabled: true,
    clientSessions: 0,
    serverConnections: { inUse: 0, idle: 0, limit: 0 },
    queue: { waiting: 0, longestWaitMs: 0, averageWaitMs: 0, timeouts: 0 },
    ...fields,
  };
}

describe("poolingSummary", () => {
  it("says the client sessions, the server connections in use and idle of the limit, and the queue", () => {
    expect(
      poolingSummary(
        pooling({
          clientSessions: 250,
          serverConnections: { inUse: 12, idle: 3, limit: 120 },
          queue: { waiting: 4, longestWaitMs: 1500, averageWaitMs: 35, timeouts: 2 },
        }),
      ),
    ).toEqual([
      "250 client sessions; server connections: 12 in use, 3 idle of 120",
      "4 clients wait for a server connection (longest 1.5 s); average wait 35 ms, 2 waits timed out",
    ]);
  });

  it("uses the singular for one client, and says when nobody waits", () => {
    expect(poolingSummary(pooling({ clientSessions: 1, serverConnections: { inUse: 1, idle: 0, limit: 60 } }))).toEqual([
      "1 client session; server connections: 1 in use, 0 idle of 60",
      "No client waiting; average wait 0 ms",
    ]);
    expect(poolingSummary(pooling({ clientSessions: 3, serverConnections: { inUse: 1, idle: 0, limit: 60 }, queue: { waiting: 1, longestWaitMs: 20, averageWaitMs: 5, timeouts: 1 } }))[1]).toBe(
      "1 client waits for a server connection (longest 20 ms); average wait 5 ms, 1 wait timed out",
    );
  });

  it("says when pooling is off, or on with nothing reported", () => {
    expect(poolingSummary(pooling({ enabled: false, clientSessions: 5 }))).toEqual([
      "Connection pooling off: each client session holds its own server connection",
    ]);
    expect(poolingSummary(pooling())).toEqual(["Connection pooling on: no client sessions"]);
    expect(poolingSummary(pooling({ clientSessions: 4 }))).toEqual(["Connection pooling on: 4 client sessions"]);
  });
});
