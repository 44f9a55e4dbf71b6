import type { ComputePooling } from "./api-types";
import { duration } from "./format";

// The compute's connection pool in words, as the console's compute panel says it (issue 15): the client
// sessions and the server connections they share, then the queue.

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** One or two lines (no final full stop): what the pool holds, then who waits for it. */
export function poolingSummary(pooling: ComputePooling): string[] {
  if (!pooling.enabled) return ["Connection pooling off: each client session holds its own server connection"];
  const { clientSessions, serverConnections: server, queue } = pooling;
  // No proxy reports a pool of this compute (none has served it since it started): only the sessions.
  if (server.limit === 0 && server.inUse + server.idle + queue.waiting === 0) {
    return [`Connection pooling on: ${clientSessions === 0 ? "no client sessions" : plural(clientSessions, "client session", "client sessions")}`];
  }
  const pool = `${plural(clientSessions, "client session", "client sessions")}; server connections: ${server.inUse} in use, ${server.idle} idle of ${server.limit}`;
  const waiting =
    queue.waiting > 0
      ? `${plural(queue.waiting, "client waits", "clients wait")} for a server connection (longest ${duration(queue.longestWaitMs)})`
      : "No client waiting";
  const timeouts = queue.timeouts > 0 ? `, ${plural(queue.timeouts, "wait", "waits")} timed out` : "";
  return [pool, `${waiting}; average wait ${duration(queue.averageWaitMs)}${timeouts}`];
}
