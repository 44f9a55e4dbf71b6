import { config, ConfigError, resetConfig } from "@/server/config";
import { ensureSelfSignedPair } from "@/server/util/self-signed-tls";
import { startEmbeddedPostgres } from "@/server/db/embedded-postgres";
import { disconnectDb } from "@/server/db";
import { logger } from "@/server/logger";
import { startProxy } from "./start-proxy";

// `npm run proxy`: the MySQL proxy alone. With DATABASE_URL unset it uses the embedded PostgreSQL of its
// DATA_DIR (shared with a running `npm start`, or started here). SIGTERM stops accepting and drains.

async function main() {
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
  const proxy = await startProxy();
  console.log(`MySQL proxy listening on port ${proxy.port} (metrics on ${proxy.metricsPort})`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "proxy draining");
    await proxy.stop();
    await disconnectDb();
    await stopPostgres();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
