import fs from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../server/db/embedded-postgres";
import { applyMigrations } from "../../server/db/migrate";
import { scratchDataDir } from "../../scripts/scratch-product";

// PostgreSQL for the kubernetes tests: embedded, migrated, in a scratch data directory. The product's
// processes are not started: each test file runs the proxy and the scheduler in its own process, with the
// kubernetes driver pointed at a fake API server.

let pg: EmbeddedPostgresHandle | undefined;
let dataDir: string | undefined;

export async function setup() {
  dataDir = scratchDataDir("msl-k8s-test");
  pg = await startEmbeddedPostgres({ dataDir, fast: true, log: () => undefined });
  await applyMigrations({ databaseUrl: pg.url, migrationsDir: path.join(import.meta.dirname, "..", "..", "prisma", "migrations") });
  process.env.DATABASE_URL = pg.url;
  process.env.DATA_DIR = dataDir;
}

export async function teardown() {
  await pg?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}
