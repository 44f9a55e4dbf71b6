import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedSuperuserUrl } from "./embedded-postgres";
import { applyMigrations, readMigrationFiles } from "./migrate";
import { diagnoseMigrationHistory, diffMigrationsToSchema, isEmptyMigration } from "./schema-engine";

// The migrations in prisma/migrations must build exactly what prisma/schema.prisma describes, and the runner
// that applies them at start-up (server/db/migrate.ts) must apply each once, record it as Prisma does, and
// refuse a history it cannot trust. DATABASE_URL (from test/global-setup.ts) is a real PostgreSQL that already
// went through applyMigrations; these tests leave its tables alone and work in databases of their own.

const root = fileURLToPath(new URL("../..", import.meta.url));
const schemaPath = path.join(root, "prisma/schema.prisma");
const migrationsDir = path.join(root, "prisma/migrations");

function requireDatabaseUrl(): string {
  // These tests create scratch databases (and the schema engine its shadow one), which the product's own
  // least-privilege role may not: with the embedded PostgreSQL, they use its superuser.
  const url = (process.env.DATA_DIR && embeddedSuperuserUrl(process.env.DATA_DIR)) || process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: run the integration tests with vitest.integration.config.ts");
  return url;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: requireDatabaseUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new empty database on the test server, and a function that drops it. */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `migrations_test_${randomUUID().replaceAll("-", "")}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    url: withDatabase(requireDatabaseUrl(), name),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function copyMigrations(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "migrations-test-"));
  await fs.cp(migrationsDir, dir, { recursive: true });
  return dir;
}

describe("schema.prisma and prisma/migrations", () => {
  it("agree: the migrations build exactly what the schema describes", async () => {
    const sql = await diffMigrationsToSchema({ databaseUrl: requireDatabaseUrl(), migrationsDir, schemaPath });
    expect(
      isEmptyMigration(sql),
      `prisma/schema.prisma has changes no migration makes; write one with \`npm run migrate:new -- <name>\`:\n${sql}`,
    ).toBe(true);
  });

  it("are reported as drifting when the schema has a field no migration adds", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "schema-drift-"));
    try {
      const schema = await fs.readFile(schemaPath, "utf8");
      const drifted = schema.replace(/^model Organization \{\n/m, (line) => `${line}  driftProbe String?\n`);
      expect(drifted).not.toBe(schema);
      const driftedPath = path.join(dir, "schema.prisma");
      await fs.writeFile(driftedPath, drifted);

      const sql = await diffMigrationsToSchema({ databaseUrl: requireDatabaseUrl(), migrationsDir, schemaPath: driftedPath });
      expect(isEmptyMigration(sql)).toBe(false);
      expect(sql).toMatch(/ALTER TABLE "Organization" ADD COLUMN\s+"driftProbe" TEXT;/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe("applyMigrations on a fresh database", () => {
  let database: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    database = await createDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("applies each migration exactly once when several processes start at once, and records it as Prisma does", async () => {
    const files = await readMigrationFiles(migrationsDir);
    expect(files.length).toBeGreaterThan(0);
    const names = files.map((file) => file.name);

    // Two runners on separate connections, as two processes starting together would be.
    const [first, second] = await Promise.all([
      applyMigrations({ databaseUrl: database.url, migrationsDir }),
      applyMigrations({ databaseUrl: database.url, migrationsDir }),
    ]);
    expect([...first.applied, ...second.applied].sort()).toEqual(names);
    expect(await applyMigrations({ databaseUrl: database.url, migrationsDir })).toEqual({ applied: [] });

    const rows = await query<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>(database.url, `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      const bytes = await fs.readFile(path.join(migrationsDir, row.migration_name, "migration.sql"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }

    // The table is Prisma's, column for column.
    const columns = await query<{ column_name: string; data_type: string; len: number | null; is_nullable: string; column_default: string | null }>(
      database.url,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", len: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", len: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", len: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", len: null, is_nullable: "NO", column_default: "0" },
    ]);
    const [primaryKey] = await query<{ columns: string[] }>(
      database.url,
      `SELECT array_agg(a.attname::text) AS columns FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '"_prisma_migrations"'::regclass AND i.indisprimary`,
    );
    expect(primaryKey?.columns).toEqual(["id"]);

    // Prisma's own engine reads this history as complete and untouched (what `prisma migrate status` says).
    const status = await diagnoseMigrationHistory({ databaseUrl: database.url, migrationsDir, schemaPath });
    expect(status).toEqual({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
  });
});

describe("applyMigrations refuses a history it cannot trust", () => {
  let database: { url: string; drop: () => Promise<void> };
  let dir: string;
  let first: string;

  beforeAll(async () => {
    database = await createDatabase();
    dir = await copyMigrations();
    await applyMigrations({ databaseUrl: database.url, migrationsDir: dir });
    first = (await readMigrationFiles(dir))[0]!.name;
  });

  afterAll(async () => {
    await database?.drop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("refuses a migration whose file changed after it was applied, naming it", async () => {
    const file = path.join(dir, first, "migration.sql");
    const original = await fs.readFile(file);
    await fs.appendFile(file, "\n-- edited after it was applied\n");
    try {
      const run = applyMigrations({ databaseUrl: database.url, migrationsDir: dir });
      await expect(run).rejects.toThrow(`migration ${first} was changed after it was applied`);
    } finally {
      await fs.writeFile(file, original);
    }
    expect(await applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).toEqual({ applied: [] });
  });

  it("refuses to go on after a recorded failed migration, naming it", async () => {
    const [row] = await query<{ id: string }>(
      database.url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, '99990101000000_half_done', now(), 0) RETURNING id`,
      [randomUUID(), "0".repeat(64)],
    );
    try {
      await expect(applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).rejects.toThrow(
        "migration 99990101000000_half_done is recorded as failed",
      );
    } finally {
      await query(database.url, `DELETE FROM "_prisma_migrations" WHERE id = $1`, [row!.id]);
    }
  });

  it("rolls back a migration that fails, records nothing, and applies it once it is fixed", async () => {
    const name = "99990101000000_broken";
    await fs.mkdir(path.join(dir, name));
    const file = path.join(dir, name, "migration.sql");
    // A ";" inside a string literal too: the file must go to PostgreSQL whole, not split on ";".
    await fs.writeFile(file, `CREATE TABLE "Probe" ("note" TEXT DEFAULT 'a;b');\nSELECT no_such_function();\n`);
    try {
      await expect(applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).rejects.toThrow(
        `migration ${name} failed and was rolled back`,
      );
      expect(await query(database.url, `SELECT to_regclass('"Probe"') AS probe`)).toEqual([{ probe: null }]);
      expect(await query(database.url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [name])).toEqual([]);

      await fs.writeFile(file, `CREATE TABLE "Probe" ("note" TEXT DEFAULT 'a;b');\n`);
      expect(await applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).toEqual({ applied: [name] });
    } finally {
      await fs.rm(path.join(dir, name), { recursive: true, force: true });
    }
  });
});
