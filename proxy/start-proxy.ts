import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import tls from "node:tls";
import { config } from "@/server/config";
import { OwnerChannel } from "@/server/proxy-activity/owner-channel";
import { logger } from "@/server/logger";
import { ActivityReporter } from "./activity-reporter";
import { metrics, poolGaugeSink, startMetricsServer } from "./metrics";
import { PoolMetrics } from "./pool-metrics";
import { RouteCache } from "./routing";
import { ServerPool } from "./server-pool";
import { ConnectionBroker, type ClusterCredits } from "./connection-broker";
import { initialServerInfo } from "./server-info";
import { ProxyServer } from "./server";
import { SessionRegistry } from "./sessions";
import { KillRouter } from "./kill-router";
import type { SiblingAsks } from "./sibling-asks";
import { PreAuthGate } from "./preauth-gate";
import { listen } from "@/server/db/listen";
import { parseRouteChange, ROUTES_CHANGED_CHANNEL } from "./route-changes";
import { AuthThrottle, throttleMaxDelayMs } from "./throttle";
import { Waker } from "./wake";
import { databaseWakeSink } from "./wake-recorder";
import type { ActivitySink, SessionMetrics } from "./session";

export interface RunningProxy {
  port: number;
  /** Null when this process serves no metrics (a cluster worker: the primary serves them all). */
  metricsPort: number | null;
  proxyId: string;
  server: ProxyServer;
  /** Compute connections kept between client sessions. */
  serverPool: ServerPool;
  /** Who holds the computes' server connections (a cluster's primary lends and grants room through it). */
  broker: ConnectionBroker;
  /** Routes by project and role, kept current by PostgreSQL's notifications. */
  routes: RouteCache;
  stop(drainMs?: number): Promise<void>;
}

/** The pools' gauges: each compute's latest snapshot, summed (issue 15). */
const poolMetrics = new PoolMetrics(poolGaugeSink);

const sessionMetrics: SessionMetrics = {
  handshake: (result) => metrics.handshakes.inc({ result }),
  authFailure: () => metrics.authFailures.inc(),
  wake: (from, seconds) => {
    metrics.wakes.inc({ from: from === "paused" || from === "suspended" ? from : "other" });
    metrics.wakeDuration.observe(seconds);
  },
  backendRetry: () => metrics.backendConnectRetries.inc(),
  sessionOpened: () => {
    metrics.connectionsActive.inc();
    metrics.connectionsTotal.inc();
  },
  sessionClosed: () => metrics.connectionsActive.dec(),
  pool: (computeId, snapshot) => poolMetrics.pool(computeId, snapshot),
  poolWait: (seconds, outcome) => poolMetrics.poolWait(seconds, outcome),
  takeover: (state) => metrics.takeovers.inc({ state }),
};

/** What the local driver starts every compute with (server/compute/drivers/local/mariadb-config.ts). */
const COMPUTE_MAX_CONNECTIONS = 151;

/**
 * Server connections per compute for this process: PROXY_SERVER_CONNECTIONS_PER_COMPUTE, or 80 % of the
 * compute's max_connections shared among the cluster's workers (each worker is a proxy of its own), which
 * leaves the rest to direct sessions and the control plane.
 */
export function serverConnectionLimit(configured: number, workers: number): number {
  if (configured > 0) return configured;
  return Math.max(1, Math.floor((COMPUTE_MAX_CONNECTIONS * 0.8) / Math.max(1, workers)));
}

/**
 * Writes of the held-thread report made for a connection just pooled are at least this far apart. At 25 ms,
 * clients that connect and leave in a loop made a report per connect: each a PostgreSQL transaction that
 * cost the worker and PostgreSQL 1.6 ms of CPU apiece, more than the connect itself.
 */
const REPORT_GAP_MS = 250;

/**
 * Run `write` now, or as soon as the one under way is done and `gapMs` have passed since it began: never two
 * at a time, at most one per gap, no call left without a write after it.
 */
function throttled(write: () => Promise<void>, gapMs: number): () => void {
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  const run = () => {
    running = true;
    last = Date.now();
    void write().finally(() => {
      running = false;
      if (again) {
        again = false;
        request();
      }
    });
  };
  const request = () => {
    if (running) {
      again = true;
      return;
    }
    if (timer) return;
    const wait = last + gapMs - Date.now();
    if (wait <= 0) return run();
    timer = setTimeout(() => {
      timer = null;
      run();
    }, wait);
  };
  return request;
}

function tlsContext(): tls.SecureContext | null {
  const cfg = config();
  if (!cfg.PROXY_TLS_CERT || !cfg.PROXY_TLS_KEY) return null;
  return tls.createSecureContext({ cert: fs.readFileSync(cfg.PROXY_TLS_CERT), key: fs.readFileSync(cfg.PROXY_TLS_KEY) });
}

export interface ProxyOverrides {
  port?: number;
  /** A cluster worker: the compute's server connections are shared with the other workers (proxy/cluster-credits.ts). */
  credits?: Omit<ClusterCredits, "total">;
  /** Null: no metrics endpoint in this process. */
  metricsPort?: number | null;
  host?: string;
  /** A cluster worker's registry and throttle, which share their news with the other workers. */
  registry?: SessionRegistry;
  throttle?: AuthThrottle;
  /** A cluster worker's pre-auth gate, which shares its counts with the other workers. */
  preAuth?: PreAuthGate;
  /** A cluster worker's way to ask the other workers about their sessions (for KILL). */
  siblings?: SiblingAsks;
  /** Told this process's slot when it registers, and again if it changes (a worker tells the primary). */
  onSlot?: (slot: number) => void;
}

/** Start a proxy in this process: listener, metrics endpoint and activity reports. */
export async function startProxy(overrides: ProxyOverrides = {}): Promise<RunningProxy> {
  const cfg = config();
  const proxyId = `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`;
  const serverInfo = initialServerInfo();
  const registry = overrides.registry ?? new SessionRegistry();
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error("DATABASE_URL is not set: start the proxy with `npm run proxy` or `npm start`, which provide it");
  // Other proxy instances ask this one about its sessions (and it asks them) through PostgreSQL.
  const owners = new OwnerChannel({ connectionString: databaseUrl, answer: (id, scope) => registry.answer(id, scope) });
  let claimed: Promise<void> = Promise.resolve();
  const activity = new ActivityReporter({
    proxyId,
    host: os.hostname(),
    version: serverInfo.serverVersion,
    onSlot: (slot) => {
      registry.setSlot(slot);
      claimed = owners.setSlot(slot);
      overrides.onSlot?.(slot);
    },
  });
  // The idle check subtracts the threads reported as pooled from the compute's sessions, so a connection
  // just pooled is written before the next interval (within REPORT_GAP_MS), so that a pause soon after the
  // last client left sees it as the proxy's. A connection taken by a client needs no write of its own:
  // the idle check counts a reported thread that ran a command since the report (server/compute/
  // client-sessions.ts), and a take always sends one (the login's ping, or the client's statement); the
  // next interval's write drops it from the report.
  const reportNow = throttled(() => activity.flush(), REPORT_GAP_MS);
  const heldCount = new Map<string, number>();
  const workers = Number(process.env.PROXY_WORKER_COUNT ?? 1);
  const share = serverConnectionLimit(cfg.PROXY_SERVER_CONNECTIONS_PER_COMPUTE, workers);
  const broker = new ConnectionBroker({
    limit: share,
    cluster: overrides.credits ? { ...overrides.credits, total: share * workers } : undefined,
    queueTimeoutMs: cfg.PROXY_POOL_QUEUE_TIMEOUT_SECONDS * 1000,
    clientLimit: cfg.PROXY_CLIENT_CONNECTIONS_PER_COMPUTE,
    closeIdle: (computeId) => serverPool.closeIdle(computeId),
    idleKept: (computeId) => serverPool.idleThreadIds(computeId).length,
    report: (computeId, snapshot) => {
      (activity as ActivitySink).pool?.(computeId, snapshot);
      sessionMetrics.pool?.(computeId, snapshot);
    },
    waited: (seconds, outcome) => sessionMetrics.poolWait?.(seconds, outcome),
  });
  const serverPool: ServerPool = new ServerPool(
    { idlePerKey: cfg.PROXY_POOL_IDLE_PER_KEY, idlePerCompute: cfg.PROXY_POOL_IDLE_PER_COMPUTE, idleMs: cfg.PROXY_POOL_IDLE_SECONDS * 1000 },
    (computeId, threadIds) => {
      broker.poolChanged(computeId);
      activity.idleServerConnections(computeId, threadIds);
      const grew = threadIds.length > (heldCount.get(computeId) ?? 0);
      if (threadIds.length > 0) heldCount.set(computeId, threadIds.length);
      else heldCount.delete(computeId);
      if (grew) reportNow();
    },
  );
  const context = tlsContext();
  if (cfg.PROXY_TLS_REQUIRED && !context) throw new Error("PROXY_TLS_REQUIRED is set but PROXY_TLS_CERT and PROXY_TLS_KEY are not");
  // Routes are kept current by PostgreSQL's notifications of every change to them (proxy/routing.ts).
  const routes = new RouteCache(cfg.PROXY_ROUTE_CACHE_MS);
  const routeChanges =
    cfg.PROXY_ROUTE_CACHE_MS > 0
      ? listen(ROUTES_CHANGED_CHANNEL, { onNotify: (payload) => routes.changed(parseRouteChange(payload)), onGap: (listening) => routes.gap(listening) })
      : null;
  const server = new ProxyServer({
    registry,
    routes,
    waker: new Waker(),
    throttle: overrides.throttle ?? new AuthThrottle({ maxDelayMs: throttleMaxDelayMs(cfg.PROXY_HANDSHAKE_TIMEOUT_MS) }),
    preAuth: overrides.preAuth ?? new PreAuthGate({ perAddress: cfg.PROXY_PREAUTH_PER_ADDRESS, max: cfg.PROXY_PREAUTH_MAX }),
    activity,
    wakes: databaseWakeSink,
    metrics: sessionMetrics,
    serverInfo,
    tlsContext: context,
    tlsRequired: cfg.PROXY_TLS_REQUIRED,
    handshakeTimeoutMs: cfg.PROXY_HANDSHAKE_TIMEOUT_MS,
    wakeTimeoutMs: cfg.PROXY_WAKE_TIMEOUT_MS,
    localSockets: cfg.PROXY_LOCAL_SOCKETS,
    serverPool,
    broker,
    kills: new KillRouter({ registry, siblings: overrides.siblings ?? null, instances: owners }),
  }, { proxyProtocolFrom: cfg.PROXY_PROTOCOL_TRUSTED });
  await owners.start();
  await activity.start();
  // Answer for the slot before handing out its first id, so every session can be reached from the start.
  await claimed;
  const host = overrides.host ?? "0.0.0.0";
  const port = await server.listen(overrides.port ?? cfg.PROXY_PORT, host);
  const metricsServer = overrides.metricsPort === null ? null : await startMetricsServer(overrides.metricsPort ?? cfg.PROXY_METRICS_PORT);
  const address = metricsServer?.address();
  const metricsPort = typeof address === "object" && address ? address.port : null;
  logger.info({ port, metricsPort, tls: context !== null, proxyId }, "proxy listening");
  return {
    port,
    metricsPort,
    proxyId,
    server,
    serverPool,
    broker,
    routes,
    async stop(drainMs = cfg.PROXY_DRAIN_TIMEOUT_MS) {
      await server.shutdown(drainMs);
      serverPool.closeAll();
      await owners.stop();
      await activity.stop();
      await routeChanges?.stop();
      if (metricsServer) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    },
  };
}
