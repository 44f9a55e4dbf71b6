import cluster from "node:cluster";
import os from "node:os";
import { config, ConfigError, resetConfig } from "@/server/config";
import { ensureSelfSignedPair } from "@/server/util/self-signed-tls";
import { startEmbeddedPostgres } from "@/server/db/embedded-postgres";
import { disconnectDb } from "@/server/db";
import { logger } from "@/server/logger";
import { runPrimary, runWorker } from "./cluster";
import { startProxy, type RunningProxy } from "./start-proxy";

// `npm run proxy`: the MySQL proxy alone. With DATABASE_URL unset it uses the embedded PostgreSQL of its
// DATA_DIR (shared with a running `npm start`, or started here). With PROXY_WORKERS other than 1 this
// process is the primary of one worker per core (proxy/cluster.ts). SIGTERM stops accepting and drains.

/** PROXY_WORKERS=0 means one worker per core, up to this many. */
const MAX_DEFAULT_WORKERS = 8;
const WORKER_POOL_SIZE = 4;

/** Stop once, on the first of SIGTERM / SIGINT (a terminal's Ctrl-C reaches every process of the group). */
function onStopSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stop(signal).finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}

async function worker() {
  let stopping: Promise<void> | null = null;
  const stop = (proxy: RunningProxy) =>
    (stopping ??= (async () => {
      await proxy.stop();
      await disconnectDb();
      process.exit(0);
    })());
  const proxy = await runWorker(stop);
  onStopSignal(() => stop(proxy));
}

async function primary() {
  process.env.SERVICE_NAME ??= "proxy";
  const cfg = config();
  let stopPostgres = async () => {};
  if (!cfg.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: cfg.dataDir, log: (line) => logger.info(line) });
    process.env.DATABASE_URL = pg.url;
    stopPostgres = pg.stop;
  }
  if (!cfg.PROXY_TLS_CERT || !cfg.PROXY_TLS_KEY) {
    // Like `npm start`: local TLS with the self-signed pair kept in DATA_DIR.
    const pair = ensureSelfSignedPair(cfg.dataDir);
    process.env.PROXY_TLS_CERT = pair.cert;
    process.env.PROXY_TLS_KEY = pair.key;
    resetConfig();
  }
  const workers = cfg.PROXY_WORKERS === 0 ? Math.min(os.availableParallelism(), MAX_DEFAULT_WORKERS) : cfg.PROXY_WORKERS;
  // Each worker has its own PostgreSQL pool; a proxy needs few connections (cached routes, a report a
  // second), and many workers with the usual 10 each would crowd PostgreSQL's connection limit.
  if (workers > 1) process.env.DATABASE_POOL_SIZE ??= String(WORKER_POOL_SIZE);
  // One worker is no cluster: the proxy runs in this process.
  const proxy =
    workers === 1
      ? await startProxy()
      : await runPrimary({ workers, metricsPort: cfg.PROXY_METRICS_PORT, drainMs: cfg.PROXY_DRAIN_TIMEOUT_MS });
  console.log(`MySQL proxy listening on port ${proxy.port} (metrics on ${proxy.metricsPort}; ${workers} worker${workers === 1 ? "" : "s"})`);
  onStopSignal(async (signal) => {
    logger.info({ signal }, "proxy draining");
    await proxy.stop();
    await disconnectDb();
    await stopPostgres();
  });
}

(cluster.isWorker ? worker() : primary()).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
