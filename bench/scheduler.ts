import fs from "node:fs";
import os from "node:os";
import { startEmbeddedPostgres } from "../server/db/embedded-postgres";
import { applyMigrations } from "../server/db/migrate";
import { scratchDataDir } from "../scripts/scratch-product";
import type { ComputeDriver, DriverState, InspectResult, WorkloadStatus } from "../server/compute/drivers/types";

// `npm run bench:scheduler`: the time of one scheduler tick (reconcile every compute, pause the idle ones,
// suspend the cold ones, prune dead proxies) as the fleet grows, with rows in a real PostgreSQL and a
// compute driver that only records its calls. Target: under 1 s per tick at 10,000 computes.
//
// The fleet looks like a scale-to-zero platform's: half suspended, 30 % paused (not yet cold), 19 % running
// and busy, 1 % just gone idle. The first tick acts on the idle 1 % (and the cold ones); the second is the
// steady state with nothing to do.

const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,50000").split(",").map(Number);

class RecordingDriver implements ComputeDriver {
  readonly name = "bench";
  calls = new Map<string, number>();
  private record(method: string) {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }
  async start() {
    this.record("start");
    return { endpoint: { host: "127.0.0.1", port: 1 }, driverState: { fake: true } };
  }
  async stop() { this.record("stop"); }
  async pause() { this.record("pause"); }
  async unpause() { this.record("unpause"); }
  async destroy() { this.record("destroy"); }
  /** Seeded rows say in their driverState what their (pretend) process is doing. */
  async inspect(_id: string, state: DriverState | null): Promise<InspectResult> {
    this.record("inspect");
    return { status: (state?.status as WorkloadStatus | undefined) ?? "running", endpoint: null, driverState: state };
  }
  async syncRoles() { this.record("syncRoles"); }
  async countUserSessions() { this.record("countUserSessions"); return 0; }
  async killUserSessions() { this.record("killUserSessions"); }
}

async function seed(pg: import("pg").Client, n: number) {
  await pg.query(`TRUNCATE "Organization", "Compute", "Project", "Operation", "UsageEvent" CASCADE`);
  await pg.query(`INSERT INTO "Organization" (id, slug, name, "updatedAt") VALUES ('org-bench', 'bench', 'bench', now())`);
  await pg.query(
    `INSERT INTO "Project" (id, "organizationId", slug, name, "updatedAt")
     SELECT 'p' || i, 'org-bench', 'bench-' || i, 'p' || i, now() FROM generate_series(1, $1) i`,
    [n],
  );
  // i % 100: 0..49 suspended, 50..79 paused recently, 80..98 running and busy, 99 running and idle
  await pg.query(
    `INSERT INTO "Compute" (id, "projectId", state, driver, "driverState", "suspendTimeoutSeconds", "coldAfterSeconds",
                            "stateChangedAt", "enteredStateAt", "lastActiveAt", "updatedAt")
     SELECT 'c' || i, 'p' || i,
            (CASE WHEN i % 100 < 50 THEN 'suspended' WHEN i % 100 < 80 THEN 'paused' ELSE 'running' END)::"ComputeState",
            'bench', (CASE WHEN i % 100 < 50 THEN '{"status": "stopped"}' WHEN i % 100 < 80 THEN '{"status": "paused"}' ELSE '{"status": "running"}' END)::jsonb, 300, 3600,
            now() AT TIME ZONE 'UTC' - interval '2 hours',
            now() AT TIME ZONE 'UTC' - (CASE WHEN i % 100 < 50 THEN interval '2 hours' ELSE interval '5 minutes' END),
            now() AT TIME ZONE 'UTC' - (CASE WHEN i % 100 = 99 THEN interval '1 hour' ELSE interval '1 second' END),
            now()
     FROM generate_series(1, $1) i`,
    [n],
  );
  await pg.query(`ANALYZE`);
}

async function main() {
  const dataDir = scratchDataDir("msl-bench-sched");
  // Durable, as `npm start` runs it (fsync on): the tick's writes cost what they cost users.
  const postgres = await startEmbeddedPostgres({ dataDir });
  try {
    process.env.DATABASE_URL = postgres.url;
    process.env.DATA_DIR = dataDir;
    process.env.LOG_LEVEL ??= "warn";
    await applyMigrations({ databaseUrl: postgres.url });
    const { registerDriver } = await import("../server/compute/drivers/registry");
    const { runTick, schedulerPool } = await import("../server/scheduler/loop");
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();

    console.log(`scheduler tick on ${os.cpus().length} cores (real PostgreSQL, recording driver); target < 1000 ms at 10,000\n`);
    console.log("computes | first tick (acts on 1 % idle) | steady tick | driver calls in the first tick");
    for (const n of SIZES) {
      const driver = new RecordingDriver();
      registerDriver(driver);
      await seed(client, n);
      const t0 = performance.now();
      // The tick queues its work on the pool; the figure counts deciding and acting, as it always has.
      await runTick();
      await schedulerPool().drain();
      const first = performance.now() - t0;
      const calls = [...driver.calls].map(([k, v]) => `${k} ${v}`).join(", ");
      const t1 = performance.now();
      await runTick();
      await schedulerPool().drain();
      const steady = performance.now() - t1;
      const paused = await client.query(`SELECT count(*)::int AS n FROM "Operation" WHERE kind = 'pause_compute'`);
      console.log(
        `${String(n).padStart(8)} | ${first.toFixed(0).padStart(8)} ms (${paused.rows[0].n} paused) | ${steady.toFixed(0).padStart(8)} ms | ${calls}`,
      );
    }
    await client.end();
    const { disconnectDb } = await import("../server/db");
    await disconnectDb();
  } finally {
    await postgres.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
