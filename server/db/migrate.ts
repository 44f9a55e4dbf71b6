import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";

// Applies prisma/migrations at product start and test start, with nothing but `pg`: Prisma's CLI would need
// its native schema engine, which cannot be downloaded on our machines, and start-up must not depend on the
// WebAssembly engine (server/db/schema-engine.ts is for development only).
//
// The bookkeeping is Prisma's own: the `_prisma_migrations` table, created with Prisma's definition, one
// row per applied migration with the sha256 of its file. So `prisma migrate status|deploy` (wherever the
// native engine exists) sees a database migrated here as up to date, and vice versa.
//
// Differences from `prisma migrate deploy`, on purpose:
// - Each migration runs in one transaction together with its row, so a failure leaves neither a half-applied
//   migration nor a "failed" row behind: fix the migration and start again. (Statements PostgreSQL refuses
//   inside a transaction, such as CREATE INDEX CONCURRENTLY, cannot be used; nor BEGIN/COMMIT in a file.)
// - A migration whose file changed after it was applied is refused (deploy only warns in `migrate dev`).

/**
 * The advisory lock key Prisma's schema engine takes around migrations (72707369, "prisma" in its source), so
 * this runner and a `prisma migrate deploy` never run at the same time either. Advisory locks are scoped to
 * the current database: runners on different databases of one server do not wait for each other.
 */
const MIGRATION_LOCK_KEY = 72707369;

/** Prisma's definition of its table (schema engine, PostgreSQL flavour), column for column. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  databaseUrl: string;
  /** Default: prisma/migrations under the current directory. */
  migrationsDir?: string;
  /** How long to wait for another process that is migrating the same database. Default 5 minutes. */
  lockTimeoutMs?: number;
  /** Progress and warnings (one line each). */
  log?: (line: string) => void;
}

export interface MigrationFile {
  /** The directory name, e.g. 20250101000000_init: the order and the identity of a migration. */
  name: string;
  script: string;
  /** sha256 (hex) of the file's bytes, as Prisma records it. */
  checksum: string;
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** The migrations on disk, in the order they apply (directory names, code-point order). */
export async function readMigrationFiles(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await fs.readdir(migrationsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new Error(`no migrations directory at ${migrationsDir}`, { cause: error });
    throw error;
  });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(migrationsDir, name, "migration.sql");
    const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`migration ${name} has no readable migration.sql (${error.code ?? error.message})`, { cause: error });
    });
    files.push({ name, script: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  return files;
}

/**
 * Brings the database up to date with the migrations directory. Safe to call from several processes at once:
 * they take turns under an advisory lock, and each migration is applied exactly once. Throws, naming the
 * migration, if the history cannot be trusted: a recorded migration that failed (left by Prisma's own CLI) or
 * an applied migration whose file has changed since.
 */
export async function applyMigrations({
  databaseUrl,
  migrationsDir = path.join(process.cwd(), "prisma/migrations"),
  lockTimeoutMs = 5 * 60_000,
  log = () => {},
}: ApplyMigrationsOptions): Promise<{ applied: string[] }> {
  const files = await readMigrationFiles(migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await acquireLock(client, lockTimeoutMs);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const rows = (
        await client.query<MigrationRow>(
          `SELECT id, checksum, migration_name, started_at, finished_at, rolled_back_at
             FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
        )
      ).rows;
      const pending = checkHistory(files, rows, log);
      const applied: string[] = [];
      for (const migration of pending) {
        log(`applying migration ${migration.name}`);
        await applyOne(client, migration);
        applied.push(migration.name);
      }
      return { applied };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    // Ending the session also releases the lock if the unlock above could not be sent.
    await client.end().catch(() => {});
  }
}

async function acquireLock(client: pg.Client, timeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait (advisory locks go through the ordinary lock manager), and is reset before any
  // migration runs so it does not limit the migrations' own lock waits.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  } catch (error) {
    if (error instanceof pg.DatabaseError && error.code === "55P03") {
      throw new Error(
        `gave up after ${Math.round(timeoutMs / 1000)} s waiting for the migration lock (pg_advisory_lock(${MIGRATION_LOCK_KEY})): ` +
          "another process has been migrating this database for that long",
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.query("RESET lock_timeout");
  }
}

/** The migrations still to apply, after refusing a history that cannot be trusted. */
function checkHistory(files: MigrationFile[], rows: MigrationRow[], log: (line: string) => void): MigrationFile[] {
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw new Error(
      `migration ${failed.migration_name} is recorded as failed (started ${failed.started_at.toISOString()}, never finished) ` +
        `in _prisma_migrations: repair the database by hand, then mark it rolled back ` +
        `(UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = '${failed.id}') so it is applied again, ` +
        `or set its finished_at if the repair completed it`,
    );
  }
  // Rolled-back rows are history only: such a migration counts as not applied (Prisma does the same).
  const finished = new Map<string, MigrationRow>();
  for (const row of rows) if (row.finished_at !== null && row.rolled_back_at === null) finished.set(row.migration_name, row);

  const pending: MigrationFile[] = [];
  for (const file of files) {
    const row = finished.get(file.name);
    if (!row) {
      pending.push(file);
    } else if (row.checksum !== file.checksum) {
      throw new Error(
        `migration ${file.name} was changed after it was applied (recorded checksum ${row.checksum}, file now ${file.checksum}): ` +
          `restore the file as it was, and put the change in a new migration (npm run migrate:new -- <name>)`,
      );
    }
  }
  const onDisk = new Set(files.map((file) => file.name));
  for (const name of finished.keys()) {
    if (!onDisk.has(name)) log(`warning: migration ${name} is applied to the database but missing from the migrations directory`);
  }
  return pending;
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const startedAt = new Date();
  await client.query("BEGIN");
  try {
    // The whole file in one simple-protocol query, as Prisma sends it: several statements are allowed, and no
    // splitting on ";" that would break string literals or function bodies.
    await client.query(migration.script);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, migration_name, logs, rolled_back_at, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, NULL, NULL, $4, clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name, startedAt],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const detail = error instanceof pg.DatabaseError ? describeDatabaseError(error) : String(error);
    throw new Error(`migration ${migration.name} failed and was rolled back: ${detail}`, { cause: error });
  }
}

function describeDatabaseError(error: pg.DatabaseError): string {
  const parts = [`${error.message} (${error.code ?? "no code"})`];
  if (error.detail) parts.push(`detail: ${error.detail}`);
  if (error.hint) parts.push(`hint: ${error.hint}`);
  if (error.position) parts.push(`at character ${error.position} of migration.sql`);
  return parts.join("; ");
}
