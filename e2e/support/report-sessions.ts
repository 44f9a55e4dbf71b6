// Test helper (run by e2e/parking.spec.ts with the product's DATA_DIR): reports sessions of a project's
// compute the way a proxy process does - a real ActivityReporter writing its heartbeat and ProxyActivity rows
// to the product's PostgreSQL - until its stdin closes, then stops (which removes its rows).
// Reported: 4 client sessions, 3 of them parked and 1 pinned by an open transaction idle for two hours; with
// --pool (e2e/pooling.spec.ts) also its pool of server connections (issue 15): 1 in use and 2 idle of 120,
// 2 clients waiting (the longest for 1.5 s), 40 waits ended in 1,000 ms in all, 1 of them timed out.
// Prints "reported <computeId>" once the rows are written.
// Usage: tsx e2e/support/report-sessions.ts <project-slug> [--pool]
import crypto from "node:crypto";
import { ActivityReporter } from "../../proxy/activity-reporter";
import { config } from "../../server/config";
import { db, disconnectDb } from "../../server/db";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres";

async function main(slug: string, withPool: boolean): Promise<void> {
  const cfg = config();
  let stopPostgres = async () => {};
  if (!cfg.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: cfg.dataDir });
    process.env.DATABASE_URL = pg.url;
    stopPostgres = pg.stop;
  }
  const reporter = new ActivityReporter({ proxyId: `e2e-${crypto.randomBytes(5).toString("hex")}`, host: "e2e", intervalMs: 200, heartbeatMs: 1000 });
  try {
    const { id: computeId } = await db.compute.findFirstOrThrow({ where: { project: { slug } }, select: { id: true } });
    await reporter.start();
    for (let i = 0; i < 4; i++) reporter.opened(computeId);
    for (let i = 0; i < 3; i++) reporter.parked(computeId);
    reporter.pinned(computeId, 1, ["open transaction"], Date.now() - 2 * 3600_000 - 5_000);
    if (withPool) {
      reporter.pool(computeId, { serverInUse: 1, serverIdle: 2, serverLimit: 120, queued: 2, longestWaitMs: 1500, waits: 40, waitMsTotal: 1000, timeouts: 1 });
    }
    await reporter.flush();
    process.stdout.write(`reported ${computeId}\n`);
    await new Promise<void>((resolve) => {
      process.stdin.on("end", resolve);
      process.stdin.on("close", resolve);
      process.stdin.resume();
    });
  } finally {
    await reporter.stop();
    await disconnectDb();
    await stopPostgres();
  }
}

const [slug, flag] = process.argv.slice(2);
if (!slug || (flag !== undefined && flag !== "--pool")) {
  console.error("usage: tsx e2e/support/report-sessions.ts <project-slug> [--pool]");
  process.exit(2);
}
main(slug, flag === "--pool").then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
