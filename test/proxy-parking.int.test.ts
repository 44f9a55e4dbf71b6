import mariadb from "mariadb";
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, createRole, waitFor } from "./compute";
import { computeOf, parkingCompute, sessionsWhere } from "./parking";
import { connectProxy, connectProxyWithServerName, proxyPort } from "./proxy";
import { snapshot } from "./session-state-helpers";

// Parking (issue 14) through the product's proxy with real mariadbd and mysql2: sessions idle for their
// compute's park time let go of the compute, the compute pauses and goes cold under them, and each
// session's next command restores it as it was; what cannot be rebuilt pins a session, and a session
// that can no longer be restored says why.

async function one<T>(conn: Connection, sql: string): Promise<T> {
  const [rows] = await conn.query<RowDataPacket[]>(sql);
  return rows[0] as T;
}

describe("proxy: parking idle sessions", () => {
  it("parks a pool's sessions, lets the compute pause and go cold under them, and restores each on its next query", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40))");
    await setup.end();

    const zones = ["+05:30", "-03:00", "+09:00"];
    const pool = await Promise.all(zones.map(() => connectProxy(`${c.slug}.app`, c.password, { database: undefined })));
    const before: Record<string, unknown>[] = [];
    const statements = [];
    for (const [i, conn] of pool.entries()) {
      await conn.query("USE main");
      await conn.query("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
      await conn.query(`SET time_zone = '${zones[i]}'`);
      await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE");
      await conn.query(`SET @who = 'session ${i}', @n = ${i * 10}`);
      await conn.query("INSERT INTO items (name) VALUES (?)", [`item ${i}`]);
      statements.push(await conn.prepare("SELECT ? + @n AS total, @who AS who, (SELECT name FROM items WHERE id = LAST_INSERT_ID()) AS item"));
      before.push(await snapshot(conn));
    }

    await sessionsWhere(tenant, c, "all sessions parked", (s) => s.parked === pool.length && s.active === 0);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();
    const suspended = await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
    expect(suspended.status).toBe(200);
    expect((await computeOf(tenant, c.computeId)).state).toBe("suspended");

    // Every session's next command wakes the compute (once) and runs with the session as it was.
    const after = await Promise.all(pool.map((conn) => snapshot(conn)));
    expect(after).toEqual(before);
    for (const [i, statement] of statements.entries()) {
      const [rows] = await statement.execute([1]);
      expect(rows).toEqual([{ total: 1 + i * 10, who: `session ${i}`, item: `item ${i}` }]);
    }
    // A statement prepared after the restore gets an id of its own, and both keep working.
    const later = await pool[0]!.prepare("SELECT CONCAT(?, @who) AS greeting");
    const [greeting] = await later.execute(["hello "]);
    expect(greeting).toEqual([{ greeting: "hello session 0" }]);
    const [again] = await statements[0]!.execute([2]);
    expect(again).toEqual([{ total: 2, who: "session 0", item: "item 0" }]);
    expect((await computeOf(tenant, c.computeId)).state).toBe("running");
    for (const conn of pool) await conn.end();
  });

  it("lets the scheduler pause a compute whose only session is parked; the session's next query wakes it", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 }); // parks after 2 s too
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("SET @kept = 'across the pause'");
    await waitFor(async () => (await computeOf(tenant, c.computeId)).state === "paused", 20_000, "the scheduler's pause");
    expect(await one(conn, "SELECT @kept AS kept")).toEqual({ kept: "across the pause" });
    expect((await computeOf(tenant, c.computeId)).state).toBe("running");
    await conn.end();
  });

  it("answers pings and pool validation queries on a parked session without waking the compute", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("SET @kept = 7");
    await sessionsWhere(tenant, c, "the session parked", (s) => s.parked === 1);
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();

    await conn.ping();
    expect(await one(conn, "SELECT 1")).toEqual({ 1: 1 });
    expect(await one(conn, "/* ping */ SELECT 1")).toEqual({ 1: 1 });
    await conn.query("DO 1");
    expect((await computeOf(tenant, c.computeId)).state).toBe("paused");

    expect(await one(conn, "SELECT @kept AS kept")).toEqual({ kept: 7 });
    expect((await computeOf(tenant, c.computeId)).state).toBe("running");
    await conn.end();
  });

  it("parks and restores a TLS session", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const conn = await connectProxyWithServerName(`${c.slug}.db.localhost`, "app", c.password);
    await conn.query("SET @kept = 'over TLS', sql_mode = 'ANSI_QUOTES'");
    await sessionsWhere(tenant, c, "the session parked", (s) => s.parked === 1);
    expect(await one(conn, "SELECT @kept AS kept, @@sql_mode AS mode")).toEqual({ kept: "over TLS", mode: "ANSI_QUOTES" });
    await conn.end();
  });

  it("answers COM_RESET_CONNECTION and COM_CHANGE_USER on a parked session without waking the compute", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const workerPassword = await createRole(tenant, c.projectId, "worker");
    const { pauseCompute } = await import("../server/compute/lifecycle/pause");
    const resetting = await mariadb.createConnection({ host: "127.0.0.1", port: proxyPort(), user: `${c.slug}.app`, password: c.password, database: "main" });
    // A client that did not ask for session tracking: its OK packets come without the session-state block.
    const changing = await connectProxy(`${c.slug}.app`, c.password, { database: undefined, flags: ["-SESSION_TRACK"] });
    const [{ tz: defaultZone }] = await resetting.query("SELECT @@time_zone AS tz");
    await resetting.query("SET @x = 5, time_zone = '+02:00'");
    const [set] = await changing.query<ResultSetHeader>("SET @y = 6, time_zone = '+03:00'");
    expect(set.info).toBe("");
    expect(await one(changing, "SELECT @y AS y, @@time_zone AS tz")).toEqual({ y: 6, tz: "+03:00" });
    await sessionsWhere(tenant, c, "both sessions parked", (s) => s.parked === 2);
    expect(await pauseCompute({ actor: { system: "operator" }, computeId: c.computeId, reason: "paused by the test" })).not.toBeNull();

    await resetting.reset();
    await changing.changeUser({ user: `${c.slug}.worker`, password: workerPassword });
    expect((await computeOf(tenant, c.computeId)).state).toBe("paused");

    expect(await resetting.query("SELECT @x AS x, @@time_zone AS tz, DATABASE() AS db")).toEqual([{ x: null, tz: defaultZone, db: "main" }]);
    expect(await one(changing, "SELECT CURRENT_USER() AS who, @y AS y, @@time_zone AS tz")).toEqual({ who: "worker@%", y: null, tz: defaultZone });
    expect((await computeOf(tenant, c.computeId)).state).toBe("running");
    await resetting.end();
    await changing.end();
  });

  it("keeps a session that holds something unrebuildable unparked, reports why, and parks it once released", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const setup = await connectProxy(`${c.slug}.app`, c.password);
    await setup.query("CREATE TABLE t (n INT)");
    await setup.end();
    const cases = [
      { hold: ["BEGIN", "INSERT INTO t VALUES (1)"], release: "COMMIT", reason: /open transaction/ },
      { hold: ["LOCK TABLES t WRITE"], release: "UNLOCK TABLES", reason: /LOCK TABLES/ },
      { hold: ["SELECT GET_LOCK('job', 0)"], release: "SELECT RELEASE_LOCK('job')", reason: /GET_LOCK/ },
      { hold: ["CREATE TEMPORARY TABLE scratch (n INT)"], release: "DROP TEMPORARY TABLE scratch", reason: /temporary table/ },
    ];
    for (const { hold, release, reason } of cases) {
      const conn = await connectProxy(`${c.slug}.app`, c.password);
      for (const sql of hold) await conn.query(sql);
      const pinned = await sessionsWhere(tenant, c, `a pin matching ${reason}`, (s) => s.pinned === 1 && s.pins.some((p) => reason.test(p.reason)));
      expect(pinned.parked).toBe(0);
      await conn.query(release);
      await sessionsWhere(tenant, c, `the session parked after ${release}`, (s) => s.parked === 1 && s.pinned === 0);
      expect(await one(conn, "SELECT COUNT(*) AS n FROM t")).toEqual({ n: 1 });
      await conn.end();
    }
  });

  it("ends a parked session whose role's password changed or whose role was deleted, saying why", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const password = await createRole(tenant, c.projectId, "worker");
    const changed = await connectProxy(`${c.slug}.worker`, password);
    const deleted = await connectProxy(`${c.slug}.app`, c.password);
    await changed.query("SELECT 1 AS warm");
    await deleted.query("SELECT 1 AS warm");
    await sessionsWhere(tenant, c, "both sessions parked", (s) => s.parked === 2);

    const reset = await call("POST", `/api/v1/projects/${c.projectId}/roles/worker/reset-password`, { key: tenant.key });
    expect(reset.status).toBe(200);
    await expect(changed.query("SELECT 2")).rejects.toMatchObject({ errno: 1045, message: expect.stringMatching(/password of role 'worker' changed.*reconnect with the new password/) });

    const removed = await call("DELETE", `/api/v1/projects/${c.projectId}/roles/app`, { key: tenant.key });
    expect(removed.status).toBe(200);
    await expect(deleted.query("SELECT 2")).rejects.toMatchObject({ errno: 1045, message: expect.stringMatching(/role 'app' of project '.*' no longer exists.*reconnect/) });
    await sessionsWhere(tenant, c, "the ended sessions gone", (s) => s.parked === 0 && s.active === 0);
  });

  it("ends a parked session whose prepared statement no longer compiles, saying which", async () => {
    const tenant = await newTenant();
    const c = await parkingCompute(tenant);
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("CREATE TABLE doomed (n INT)");
    const statement = await conn.prepare("SELECT n FROM doomed WHERE n > ?");
    await sessionsWhere(tenant, c, "the session parked", (s) => s.parked === 1);
    const other = await connectProxy(`${c.slug}.app`, c.password);
    await other.query("DROP TABLE doomed");
    await other.end();
    await expect(statement.execute([1])).rejects.toMatchObject({
      message: expect.stringMatching(/prepared statement \d+ \(`SELECT n FROM doomed WHERE n > \?`\) no longer compiles: Table 'main.doomed' doesn't exist; reconnect/),
    });
  });
});
