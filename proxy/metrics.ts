import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PoolGaugeSink } from "./pool-metrics";

// The proxy's Prometheus metrics, on a registry of its own (not prom-client's global one), served as text on
// `GET /metrics` by startMetricsServer (PROXY_METRICS_PORT, 9307 by default; loopback unless told otherwise).

export const register = new Registry();
collectDefaultMetrics({ register });

/** How a client's handshake ended (the label values in use; other kinds from ClientError.kind may appear). */
export const HANDSHAKE_RESULTS = [
  "ok",
  "auth_failed",
  "error",
  "timeout",
  "closed",
  "tls_required",
  "unknown_project",
  "wake_failed",
  "quota_exceeded",
  "access_rule",
] as const;
export type HandshakeResult = (typeof HANDSHAKE_RESULTS)[number];

/** Which state a wake started from. */
export const WAKE_FROM = ["paused", "suspended", "other"] as const;
export type WakeFrom = (typeof WAKE_FROM)[number];

export const connectionsActive = new Gauge({
  name: "proxy_connections_active",
  help: "Client connections open through this proxy",
  registers: [register],
});

export const connectionsTotal = new Counter({
  name: "proxy_connections_total",
  help: "Client connections accepted by this proxy",
  registers: [register],
});

export const handshakesTotal = new Counter({
  name: "proxy_handshakes_total",
  help: "Client handshakes by how they ended",
  labelNames: ["result"] as const,
  registers: [register],
});

export const authFailuresTotal = new Counter({
  name: "proxy_auth_failures_total",
  help: "Clients refused for a wrong password or an unknown project or role",
  registers: [register],
});

export const wakesTotal = new Counter({
  name: "proxy_wakes_total",
  help: "Computes woken by this proxy, by the state they were woken from",
  labelNames: ["from"] as const,
  registers: [register],
});

export const wakeDurationSeconds = new Histogram({
  name: "proxy_wake_duration_seconds",
  help: "How long a client waited for its compute to wake (warm and cold wakes alike: see the buckets)",
  // Warm wakes (paused) take a few milliseconds, cold ones (suspended) a few hundred; the tail goes to the
  // wake timeout.
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30],
  registers: [register],
});

export const backendConnectRetriesTotal = new Counter({
  name: "proxy_backend_connect_retries_total",
  help: "Connection attempts to a compute that were retried",
  registers: [register],
});

/** Server connections to computes this proxy holds, by whether they carry a client's command now (issue 15). */
export const serverConnections = new Gauge({
  name: "proxy_server_connections",
  help: "Server connections to computes held by this proxy's pools: in_use (carrying a client's command or transaction) or idle",
  labelNames: ["state"] as const,
  registers: [register],
});

export const poolQueuedClients = new Gauge({
  name: "proxy_pool_queued_clients",
  help: "Clients waiting for a server connection of their compute (at its connection limit)",
  registers: [register],
});

export const poolWaitSeconds = new Histogram({
  name: "proxy_pool_wait_seconds",
  help: "How long clients waited for a server connection, served or not (a wait that ran out counts at its timeout)",
  // Most waits are a statement's length or less; the tail goes to the queue timeout (20 s by default).
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
  registers: [register],
});

export const poolWaitTimeoutsTotal = new Counter({
  name: "proxy_pool_wait_timeouts_total",
  help: "Clients whose wait for a server connection ran out (they got the compute's connection-limit error)",
  registers: [register],
});

export const poolTakeoversTotal = new Counter({
  name: "proxy_pool_takeovers_total",
  help: "Server connections a client session took over from another: state=same when both sessions' visible state matched (served as it was), restored when the proxy reset the connection and restored the taker's state",
  labelNames: ["state"] as const,
  registers: [register],
});

// The known label values are exported at 0 from the start, so rates and alerts work before the first event.
for (const result of HANDSHAKE_RESULTS) handshakesTotal.inc({ result }, 0);
for (const from of WAKE_FROM) wakesTotal.inc({ from }, 0);
for (const state of ["in_use", "idle"] as const) serverConnections.set({ state }, 0);
for (const state of ["same", "restored"] as const) poolTakeoversTotal.inc({ state }, 0);

/** The same metrics under short names, for the proxy's session wiring (proxy/start-proxy.ts). */
export const metrics = {
  connectionsActive,
  connectionsTotal,
  handshakes: handshakesTotal,
  authFailures: authFailuresTotal,
  wakes: wakesTotal,
  wakeDuration: wakeDurationSeconds,
  backendConnectRetries: backendConnectRetriesTotal,
  serverConnections,
  poolQueued: poolQueuedClients,
  poolWait: poolWaitSeconds,
  poolWaitTimeouts: poolWaitTimeoutsTotal,
  takeovers: poolTakeoversTotal,
} as const;

/** Where proxy/pool-metrics.ts puts its sums and waits: this registry's pool metrics. */
export const poolGaugeSink: PoolGaugeSink = {
  serverConnections: (state, value) => serverConnections.set({ state }, value),
  queued: (value) => poolQueuedClients.set(value),
  wait: (seconds) => poolWaitSeconds.observe(seconds),
  timeout: () => poolWaitTimeoutsTotal.inc(),
};

/**
 * Serve the registry: `GET /metrics` (also HEAD) answers the text exposition with the registry's content type;
 * anything else is 404. Resolves once listening (port 0 takes a free port: see `server.address()`). `collect`
 * replaces this process's registry (a cluster primary answers with its workers' metrics, summed).
 */
export function startMetricsServer(port: number, host = "127.0.0.1", collect: () => Promise<string> = () => register.metrics()): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    collect().then(
      (text) => {
        res.writeHead(200, { "content-type": register.contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`metrics failed: ${String(error)}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server);
    });
  });
}

/** The port a started metrics server listens on. */
export function metricsPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
