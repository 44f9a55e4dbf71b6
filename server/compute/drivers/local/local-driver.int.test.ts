import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComputeSpec, DriverState, Endpoint, RoleSpec } from "../types";
import { ComputeStartError, LocalDriver } from "./local-driver";
import { computeAccountName } from "./compute-account";
import { lookupOsAccount, type OsAccount } from "./os-user";

// Real mariadbd processes in a throw-away DATA_DIR. The tests run in order and share computes: each step
// starts from what the previous one left, as the state machine would.

function nativeHash(password: string): string {
  const once = createHash("sha1").update(password).digest();
  return `*${createHash("sha1").update(once).digest("hex").toUpperCase()}`;
}

function role(name: string, password: string): RoleSpec {
  return { name, passwordHash: nativeHash(password) };
}

function specFor(computeId: string, roles: RoleSpec[]): ComputeSpec {
  return { computeId, projectSlug: `proj-${computeId}`, database: "appdb", size: 0.25, roles };
}

async function login(endpoint: Endpoint, user: string, password: string, connectTimeout = 5000): Promise<Connection> {
  const conn = await mysql.createConnection({ ...endpoint, user, password, connectTimeout });
  conn.on("error", () => undefined);
  return conn;
}

async function one<T extends RowDataPacket>(conn: Connection, sql: string): Promise<T> {
  const [rows] = await conn.query<T[]>(sql);
  const row = rows[0];
  if (!row) throw new Error(`no row from ${sql}`);
  return row;
}

function portAccepts(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(endpoint);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function procAlive(pid: number): Promise<boolean> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(text.slice(text.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await fn();
  timings.push(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return result;
}

/** The real, effective, saved and file-system uids of a process (the Uid: line of /proc/<pid>/status). */
async function procUids(pid: number): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
  if (!match) throw new Error(`no Uid in /proc/${pid}/status`);
  return match.slice(1).map(Number);
}

function pidOf(state: DriverState): number {
  expect(typeof state.pid).toBe("number");
  return state.pid as number;
}

const timings: string[] = [];
const asRoot = process.getuid?.() === 0;
/** Who compute `id`'s server runs as: its own account when the tests run as root, else the test's own user. */
async function runsAs(id: string): Promise<OsAccount> {
  const self = { name: "self", uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  if (!asRoot) return self;
  const account = await lookupOsAccount(computeAccountName(path.join(dataDir, "computes", id)));
  if (!account) throw new Error(`compute ${id} has no OS account`);
  return account;
}
let dataDir = "";
let driver: LocalDriver;
const A = "cmp-a";
const B = "cmp-b";
const appRole = role("app", "s3cret-pw");
let stateA: DriverState;
let endpointA: Endpoint;

describe("LocalDriver with real mariadbd", () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "local-driver-"));
    // mkdtemp makes it 0700; the servers' OS user must be able to pass through it.
    await chmod(dataDir, 0o755);
    driver = new LocalDriver({ dataDir });
  });

  afterAll(async () => {
    for (const id of [A, B, "cmp-broken", "cmp-disk"]) await driver.destroy(id, null).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    console.log(`local driver timings:\n  ${timings.join("\n  ")}`);
  });

  it("creates a compute from the template; roles log in over TCP, nobody else does", async () => {
    expect((await driver.inspect(A, null)).status).toBe("missing");
    const first = await timed("start, first compute (builds the template)", () => driver.start(specFor(A, [appRole]), null));
    stateA = first.driverState;
    endpointA = first.endpoint;
    expect(endpointA.host).toBe("127.0.0.1");
    expect(stateA).toMatchObject({ port: endpointA.port, host: "127.0.0.1" });
    expect(typeof stateA.startedAt).toBe("string");
    expect(stateA.dataDir).toBe(path.join(dataDir, "computes", A, "data"));
    expect((await stat(path.join(dataDir, "computes", A, "data", "mysql"))).isDirectory()).toBe(true);
    expect((await stat(path.join(dataDir, "templates"))).isDirectory()).toBe(true);

    // Own session: a SIGSTOPped server is not continued by the kernel when the control plane exits.
    const statText = await readFile(`/proc/${pidOf(stateA)}/stat`, "utf8");
    const session = Number(statText.slice(statText.lastIndexOf(")") + 2).split(" ")[3]);
    expect(session).toBe(pidOf(stateA));

    // Not root: started by root, mariadbd runs as the compute's own account, which owns its files, with no
    // capabilities and no way to gain any.
    const account = await runsAs(A);
    if (asRoot) {
      expect(account.name).toMatch(/^mdb-[0-9a-f]{16}$/);
      expect(account.uid).toBeGreaterThan(0);
      const status = await readFile(`/proc/${pidOf(stateA)}/status`, "utf8");
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^CapBnd:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(new RegExp(`^Groups:\\s+(${account.gid})?\\s*$`, "m"));
    }
    expect(await procUids(pidOf(stateA))).toEqual([account.uid, account.uid, account.uid, account.uid]);
    const computeDir = path.join(dataDir, "computes", A);
    for (const owned of ["", "data", "data/mysql", "data/ibdata1", "files", "tmp", "init.sql", "error.log"]) {
      expect({ owned, uid: (await stat(path.join(computeDir, owned))).uid }).toEqual({ owned, uid: account.uid });
    }
    expect((await stat(computeDir)).mode & 0o777).toBe(0o700);
    // The template every compute is copied from is out of the servers' reach.
    const templates = path.join(dataDir, "templates");
    const [template] = (await readdir(templates)).filter((entry) => entry.startsWith("mariadb-"));
    const templateStat = await stat(path.join(templates, template ?? "missing"));
    expect(templateStat.uid).toBe(process.getuid?.());
    expect(templateStat.mode & 0o777).toBe(0o700);

    const conn = await login(endpointA, "app", "s3cret-pw");
    const settings = await one(
      conn,
      `SELECT CURRENT_USER() AS who, @@character_set_server AS cs, @@collation_server AS coll,
              @@time_zone AS tz, @@max_allowed_packet AS packet, @@innodb_flush_log_at_trx_commit AS flush,
              @@max_connections AS conns, @@log_bin AS binlog,
              (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'appdb') AS db`,
    );
    expect(settings).toMatchObject({ who: "app@%", cs: "utf8mb4", tz: "+00:00", flush: 1, db: 1, binlog: 0 });
    expect(Number(settings.packet)).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(Number(settings.conns)).toBeGreaterThanOrEqual(100);
    // A role may make databases and users of its own.
    await conn.query("CREATE DATABASE IF NOT EXISTS tenant_db");
    await conn.query("CREATE USER IF NOT EXISTS 'tenant_user'@'%' IDENTIFIED BY 'tenant-pw'");
    await conn.query("GRANT SELECT ON tenant_db.* TO 'tenant_user'@'%'");
    await conn.query("GRANT ALL PRIVILEGES ON tenant_db.* TO 'tenant_user'@'%'");
    await conn.end();

    await expect(login(endpointA, "root", "")).rejects.toThrow();
    await expect(login(endpointA, "root", "s3cret-pw")).rejects.toThrow();
    await expect(login(endpointA, "app", "wrong")).rejects.toThrow(/Access denied/);
    await expect(login(endpointA, "app", "")).rejects.toThrow(/Access denied/);
    await expect(login(endpointA, "mariadb.sys", "")).rejects.toThrow();
    await expect(login(endpointA, "", "")).rejects.toThrow();

    expect(await driver.inspect(A, stateA)).toMatchObject({ status: "running", endpoint: endpointA });
  });

  it("keeps a role within its compute: no files of the host, no server settings, no shutdown", async () => {
    const conn = await login(endpointA, "app", "s3cret-pw");
    const denied = /Access denied|command denied/;
    await expect(conn.query("SELECT 1 INTO OUTFILE '/tmp/local-driver-outfile'")).rejects.toThrow(/FILE privilege/);
    const files = path.join(dataDir, "computes", A, "files");
    await expect(conn.query(`SELECT 1 INTO DUMPFILE '${files}/dump'`)).rejects.toThrow(/FILE privilege/);
    await expect(conn.query(`LOAD DATA INFILE '${files}/x' INTO TABLE appdb.nope`)).rejects.toThrow();
    expect(await one(conn, "SELECT LOAD_FILE('/etc/hostname') AS f")).toEqual({ f: null });
    await expect(conn.query("SHUTDOWN")).rejects.toThrow(/SHUTDOWN privilege/);
    await expect(conn.query(`SET GLOBAL general_log_file = '${files}/general.log'`)).rejects.toThrow(/SUPER privilege/);
    await expect(conn.query("SET GLOBAL general_log = ON")).rejects.toThrow(/SUPER privilege/);
    await expect(conn.query("CHANGE MASTER TO MASTER_HOST = '127.0.0.1'")).rejects.toThrow(denied);
    await expect(conn.query("CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1')")).rejects.toThrow(
      denied,
    );
    // What it lacks it cannot hand out either.
    await expect(conn.query("GRANT ALL PRIVILEGES ON *.* TO 'tenant_user'@'%'")).rejects.toThrow(denied);
    await expect(conn.query("GRANT FILE ON *.* TO 'tenant_user'@'%'")).rejects.toThrow(denied);
    // Tables stay in the data directory: DATA DIRECTORY (which needs no FILE privilege) is ignored.
    const elsewhere = path.join(dataDir, "elsewhere");
    await mkdir(elsewhere, { mode: 0o777 });
    await chmod(elsewhere, 0o777);
    for (const engine of ["InnoDB", "MyISAM"]) {
      await conn.query(`CREATE TABLE appdb.dd_${engine} (id INT) ENGINE=${engine} DATA DIRECTORY='${elsewhere}'`);
      await conn.query(`DROP TABLE appdb.dd_${engine}`);
    }
    expect(await readdir(elsewhere)).toEqual([]);
    // The control plane's account holds no more than a role does.
    const [grants] = await conn.query<RowDataPacket[]>("SHOW GRANTS FOR 'root'@'localhost'");
    expect(JSON.stringify(grants)).not.toMatch(/ALL PRIVILEGES|\bFILE\b|SUPER|SHUTDOWN/);
    await conn.end();
  });

  it("takes hand-edited privileges away again at the next start", async () => {
    // A role writes the grant tables (MariaDB has no partial revokes): a raised privilege lasts until the
    // server restarts, then the init file revokes it.
    const conn = await login(endpointA, "app", "s3cret-pw");
    await conn.query(
      "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 549755813887) WHERE User = 'tenant_user'",
    );
    await conn.query("GRANT USAGE ON *.* TO 'tenant_user'@'%'");
    // And a role of the tenant's own, given SUPER by hand.
    await conn.query("CREATE ROLE tenant_role");
    await conn.query("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 549755813887) WHERE User = 'tenant_role'");
    // And one given only SUPER and FEDERATED ADMIN (1<<15 | 1<<31): the init file finds it by those bits.
    await conn.query("CREATE ROLE tenant_super_role");
    await conn.query("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 2147516416) WHERE User = 'tenant_super_role'");
    const before = await one(conn, "SELECT File_priv AS f, Super_priv AS s FROM mysql.user WHERE User = 'tenant_user'");
    expect(before).toEqual({ f: "Y", s: "Y" });
    await conn.end();

    await driver.stop(A, stateA);
    // Earlier versions of the driver made computes/ 0700; the driver opens it for search at the next start.
    const computes = path.join(dataDir, "computes");
    await chmod(computes, 0o700);
    stateA = (await driver.start(specFor(A, [appRole]), stateA)).driverState;
    expect((await stat(computes)).mode & 0o777).toBe(asRoot ? 0o711 : 0o700);

    const again = await login(endpointA, "app", "s3cret-pw");
    const [rows] = await again.query<RowDataPacket[]>(
      "SELECT User AS u, File_priv AS f, Super_priv AS s, Shutdown_priv AS d FROM mysql.user ORDER BY User",
    );
    expect(rows.map((row) => row.u)).toEqual(expect.arrayContaining(["app", "root", "tenant_user", "tenant_role"]));
    for (const row of rows) expect(row).toMatchObject({ f: "N", s: "N", d: "N" });
    const [federated] = await again.query<RowDataPacket[]>("SHOW GRANTS FOR tenant_super_role");
    expect(JSON.stringify(federated)).not.toMatch(/SUPER|FEDERATED ADMIN/);
    await again.end();
    const tenant = await login(endpointA, "tenant_user", "tenant-pw");
    await expect(tenant.query("SELECT 1 INTO OUTFILE '/tmp/local-driver-outfile'")).rejects.toThrow(/FILE privilege/);
    await tenant.end();
  });

  it("starts a second compute by copying the template", async () => {
    const b = await timed("start, cold from template", () => driver.start(specFor(B, [appRole]), null));
    expect(b.endpoint.port).not.toBe(endpointA.port);
    // Computes share no OS account: one tenant's server cannot open another's files.
    const accountB = await runsAs(B);
    if (asRoot) expect(accountB.uid).not.toBe((await runsAs(A)).uid);
    expect(await procUids(pidOf(b.driverState))).toEqual([accountB.uid, accountB.uid, accountB.uid, accountB.uid]);
    const conn = await login(b.endpoint, "app", "s3cret-pw");
    await conn.end();
    await timed("destroy", () => driver.destroy(B, b.driverState));
    expect(await procAlive(pidOf(b.driverState))).toBe(false);
    await expect(stat(path.join(dataDir, "computes", B))).rejects.toThrow();
    // Its account goes with it.
    if (asRoot) expect(await lookupOsAccount(accountB.name)).toBeNull();
    expect(await driver.inspect(B, b.driverState)).toMatchObject({ status: "missing", endpoint: null });
    await driver.destroy(B, b.driverState);
  });

  it("start on a running compute returns the same server", async () => {
    const again = await timed("start, already running", () => driver.start(specFor(A, [appRole]), stateA));
    expect(pidOf(again.driverState)).toBe(pidOf(stateA));
    expect(again.endpoint).toEqual(endpointA);
    expect(again.driverState.startedAt).toBe(stateA.startedAt);
  });

  it("keeps rows across stop/start, on the same port", async () => {
    const conn = await login(endpointA, "app", "s3cret-pw");
    await conn.query("CREATE TABLE appdb.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB");
    await conn.query("INSERT INTO appdb.t VALUES (1, 'one'), (2, 'zwei ✓')");
    await conn.end();

    await timed("stop", () => driver.stop(A, stateA));
    expect(await portAccepts(endpointA)).toBe(false);
    expect(await procAlive(pidOf(stateA))).toBe(false);
    const stopped = await driver.inspect(A, stateA);
    expect(stopped).toMatchObject({ status: "stopped", endpoint: null });
    await driver.stop(A, stateA);

    // Two callers at once (say the proxy's wake and the API's resume) get one server.
    const [restarted, twin] = await timed("start, stopped compute (two callers)", () =>
      Promise.all([
        driver.start(specFor(A, [appRole]), stopped.driverState),
        driver.start(specFor(A, [appRole]), stopped.driverState),
      ]),
    );
    expect(pidOf(twin.driverState)).toBe(pidOf(restarted.driverState));
    expect(restarted.endpoint).toEqual(endpointA);
    expect(pidOf(restarted.driverState)).not.toBe(pidOf(stateA));
    stateA = restarted.driverState;
    const again = await login(endpointA, "app", "s3cret-pw");
    const [rows] = await again.query<RowDataPacket[]>("SELECT id, v FROM appdb.t ORDER BY id");
    expect(rows).toEqual([
      { id: 1, v: "one" },
      { id: 2, v: "zwei ✓" },
    ]);
    await again.end();
  });

  it("keeps committed rows after kill -9", async () => {
    const conn = await login(endpointA, "app", "s3cret-pw");
    await conn.query("INSERT INTO appdb.t VALUES (3, 'drei')");
    await conn.end();
    const pid = pidOf(stateA);
    process.kill(pid, "SIGKILL");
    while (await procAlive(pid)) await delay(5);
    expect((await driver.inspect(A, stateA)).status).toBe("stopped");

    const restarted = await timed("start after kill -9 (crash recovery)", () => driver.start(specFor(A, [appRole]), stateA));
    stateA = restarted.driverState;
    const again = await login(restarted.endpoint, "app", "s3cret-pw");
    expect(await one(again, "SELECT COUNT(*) AS n FROM appdb.t")).toEqual({ n: 3 });
    await again.end();
  });

  it("pause freezes the server and unpause thaws it", async () => {
    const conn = await login(endpointA, "app", "s3cret-pw");
    await timed("pause", () => driver.pause(A, stateA));
    expect(await driver.inspect(A, stateA)).toMatchObject({ status: "paused", endpoint: endpointA });
    await driver.pause(A, stateA);

    const pending = conn.query<RowDataPacket[]>("SELECT 42 AS answer");
    const raced = await Promise.race([pending.then(() => "answered"), delay(300).then(() => "hung")]);
    expect(raced).toBe("hung");
    await expect(login(endpointA, "app", "s3cret-pw", 300)).rejects.toThrow();
    await expect(driver.countUserSessions(A, stateA)).rejects.toThrow(/paused/);

    await timed("unpause", () => driver.unpause(A, stateA));
    expect((await driver.inspect(A, stateA)).status).toBe("running");
    const [rows] = await pending;
    expect(rows[0]).toEqual({ answer: 42 });
    await conn.end();
  });

  it("start continues a paused server instead of starting another", async () => {
    await driver.pause(A, stateA);
    const again = await driver.start(specFor(A, [appRole]), stateA);
    expect(pidOf(again.driverState)).toBe(pidOf(stateA));
    expect((await driver.inspect(A, stateA)).status).toBe("running");
  });

  it("stops a paused server", async () => {
    await driver.pause(A, stateA);
    await timed("stop, paused server", () => driver.stop(A, stateA));
    expect(await portAccepts(endpointA)).toBe(false);
    expect((await driver.inspect(A, stateA)).status).toBe("stopped");
    const restarted = await driver.start(specFor(A, [appRole]), stateA);
    expect(restarted.endpoint).toEqual(endpointA);
    stateA = restarted.driverState;
  });

  it("adopts a running server after a control-plane restart (no driver state)", async () => {
    const fresh = new LocalDriver({ dataDir });
    const seen = await fresh.inspect(A, null);
    expect(seen.status).toBe("running");
    expect(seen.endpoint).toEqual(endpointA);
    expect(seen.driverState?.pid).toBe(pidOf(stateA));
    const adopted = await fresh.start(specFor(A, [appRole]), null);
    expect(pidOf(adopted.driverState)).toBe(pidOf(stateA));
    expect(adopted.endpoint).toEqual(endpointA);
    // A recycled pid in stale state is not taken for our server.
    const stale = { ...stateA, procStartTime: 1 };
    expect((await fresh.inspect(A, stale)).driverState?.pid).toBe(pidOf(stateA));
  });

  it("counts an idle user session and kills it", async () => {
    expect(await driver.countUserSessions(A, stateA)).toBe(0);
    const idle = await login(endpointA, "app", "s3cret-pw");
    const tenant = await login(endpointA, "tenant_user", "tenant-pw");
    expect(await driver.countUserSessions(A, stateA)).toBe(2);
    // The threads a live proxy reports holding without a client (its pool) are left out, no others.
    const held = (id: number, reportedMsAgo = 0) => ({ id, reportedMsAgo });
    expect(await driver.countUserSessions(A, stateA, [held(idle.threadId)])).toBe(1);
    expect(await driver.countUserSessions(A, stateA, [held(idle.threadId), held(tenant.threadId), held(999_999)])).toBe(0);
    // A held thread that ran a command since the report was written (a proxy took it for a client) counts.
    await idle.query("SELECT 1");
    expect(await driver.countUserSessions(A, stateA, [held(idle.threadId, 60_000), held(tenant.threadId)])).toBe(1);
    await driver.killUserSessions(A, stateA);
    expect(await driver.countUserSessions(A, stateA)).toBe(0);
    await expect(idle.query("SELECT 1")).rejects.toThrow();
    await expect(tenant.query("SELECT 1")).rejects.toThrow();
    idle.destroy();
    tenant.destroy();
  });

  it("syncs roles: re-hashes, drops former roles, leaves tenant users alone", async () => {
    const next = [role("app", "new-pw"), role("reporting", "r3port")];
    await driver.syncRoles(A, stateA, "appdb", next);
    await expect(login(endpointA, "app", "s3cret-pw")).rejects.toThrow(/Access denied/);
    const reporting = await login(endpointA, "reporting", "r3port");
    await reporting.end();

    await driver.syncRoles(A, stateA, "appdb", [role("app", "new-pw")]);
    await expect(login(endpointA, "reporting", "r3port")).rejects.toThrow(/Access denied/);
    const tenant = await login(endpointA, "tenant_user", "tenant-pw");
    await tenant.end();

    // A tenant who removes the control plane's account gets it back at the next start.
    const app = await login(endpointA, "app", "new-pw");
    await app.query("DROP USER 'root'@'localhost'");
    await app.end();
    await expect(driver.countUserSessions(A, stateA)).rejects.toThrow();
    // start on the running server notices it is locked out and restarts it.
    const restarted = await driver.start(specFor(A, [role("app", "new-pw")]), stateA);
    expect(pidOf(restarted.driverState)).not.toBe(pidOf(stateA));
    expect(restarted.endpoint).toEqual(endpointA);
    stateA = restarted.driverState;
    expect(await driver.countUserSessions(A, stateA)).toBe(0);

    // Or locks it and gives it a password instead: the next start makes it the control plane's again.
    const again = await login(endpointA, "app", "new-pw");
    await again.query("ALTER USER 'root'@'localhost' IDENTIFIED BY 'taken' ACCOUNT LOCK");
    await again.end();
    await expect(driver.countUserSessions(A, stateA)).rejects.toThrow();
    stateA = (await driver.start(specFor(A, [role("app", "new-pw")]), stateA)).driverState;
    expect(await driver.countUserSessions(A, stateA)).toBe(0);
  });

  it("reports a server that cannot start with a cause, keeping host paths and the error log to operators", async () => {
    const broken = path.join(dataDir, "computes", "cmp-broken", "data");
    await mkdir(broken, { recursive: true });
    const failure = await driver.start(specFor("cmp-broken", [appRole]), null).then(
      () => null,
      (err: unknown) => err as ComputeStartError,
    );
    expect(failure).toBeInstanceOf(ComputeStartError);
    expect(failure?.message).toMatch(/^the MariaDB server could not start: its system tables .* are damaged or missing/);
    expect(failure?.message).not.toContain(dataDir);
    expect(failure?.message).not.toMatch(/pid|\/computes\//);
    // The operators' copy: the error log's tail, as mariadbd wrote it.
    expect(failure?.logTail).toMatch(/\[ERROR\]/);
    expect((await driver.inspect("cmp-broken", null)).status).toBe("stopped");
  });

  it.runIf(asRoot)("holds a compute to its disk limit: a full disk is the tenant's error, nobody else's", async () => {
    const limit = 96 * 1024 * 1024;
    const started = await driver.start({ ...specFor("cmp-disk", [appRole]), storageLimitBytes: limit }, null);
    const dir = path.join(dataDir, "computes", "cmp-disk");
    const used0 = await driver.storageBytes("cmp-disk");
    expect(used0).toBeGreaterThan(10 * 1024 * 1024); // the system tables and InnoDB's files
    expect(used0).toBeLessThan(limit);
    const conn = await login(started.endpoint, "app", "s3cret-pw");
    await conn.query("CREATE TABLE appdb.filler (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB) ENGINE=InnoDB");
    let failure = "";
    for (let i = 0; i < 200 && !failure; i++) {
      await conn.query("INSERT INTO appdb.filler (v) VALUES (REPEAT(RANDOM_BYTES(1024), 2048))").catch(
        (err: Error) => {
          failure = err.message;
        },
      );
    }
    // The tenant's own server says its disk is full; MariaDB 10.11 may instead abort while rolling the
    // failed insert back ("Out of disk space in rollback"), which ends the session.
    expect(failure).toMatch(/is full|No space left|Errcode: 28|Disk full|Connection lost|closed the connection/i);
    conn.destroy();
    const used = await driver.storageBytes("cmp-disk");
    // At most the limit, plus whatever the server wrote for itself while failing (its error log) out of
    // the reserve it cannot use: nothing.
    expect(used).toBeLessThanOrEqual(limit);
    expect(used).toBeGreaterThan(used0! + 16 * 1024 * 1024);
    // The host holds no more than the limit for it (a sparse image file, root's, beside the directory).
    const image = await stat(`${dir}.img`);
    expect(image.blocks * 512).toBeLessThanOrEqual(limit + 32 * 1024 * 1024);
    expect(image.mode & 0o777).toBe(0o600);
    // However it ended, the server starts again on its full disk (crash recovery needs no new space), its
    // rows are there, and the tenant can make room: TRUNCATE and DROP need none (a DELETE writes undo
    // records first, which a full disk may refuse).
    const again = await driver.start({ ...specFor("cmp-disk", [appRole]), storageLimitBytes: limit }, started.driverState);
    const tenant = await login(again.endpoint, "app", "s3cret-pw");
    expect(await one(tenant, "SELECT COUNT(*) > 0 AS some FROM appdb.filler")).toEqual({ some: 1 });
    await tenant.query("TRUNCATE TABLE appdb.filler");
    expect(await driver.storageBytes("cmp-disk")).toBeLessThan(used! - 16 * 1024 * 1024);
    // A higher limit (a plan change) grows the file system, data kept (online where the kernel lets root
    // resize, else at the next start).
    await tenant.end();
    await driver.stop("cmp-disk", again.driverState);
    const grown = await driver.start({ ...specFor("cmp-disk", [appRole]), storageLimitBytes: 2 * limit }, again.driverState);
    const more = await login(grown.endpoint, "app", "s3cret-pw");
    const before = await driver.storageBytes("cmp-disk");
    for (let i = 0; i < 60; i++) await more.query("INSERT INTO appdb.filler (v) VALUES (REPEAT(RANDOM_BYTES(1024), 2048))");
    expect(await driver.storageBytes("cmp-disk")).toBeGreaterThan(Math.max(before! + 100 * 1024 * 1024, limit));
    await more.end();
    await driver.destroy("cmp-disk", grown.driverState);
    await expect(stat(`${dir}.img`)).rejects.toThrow();
    await expect(stat(dir)).rejects.toThrow();
  });

  it.runIf(asRoot)("says which directory the servers' OS user cannot enter", async () => {
    const closed = await mkdtemp(path.join(tmpdir(), "local-driver-closed-"));
    try {
      const other = new LocalDriver({ dataDir: path.join(closed, "data") });
      await expect(other.start(specFor("cmp-closed", [appRole]), null)).rejects.toThrow(
        new RegExp(`mdb-[0-9a-f]{16} that runs the compute servers cannot enter ${closed} \\(mode 0700.*chmod o\\+x ${closed}`),
      );
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });

  it("destroys a running compute", async () => {
    const pid = pidOf(stateA);
    await driver.destroy(A, null);
    expect(await procAlive(pid)).toBe(false);
    await expect(stat(path.join(dataDir, "computes", A))).rejects.toThrow();
    expect((await driver.inspect(A, stateA)).status).toBe("missing");
    await driver.destroy(A, stateA);
  });
});
