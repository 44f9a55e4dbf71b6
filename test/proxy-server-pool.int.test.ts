import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newTenant, type Tenant } from "./api";
import { connectDirect, createProjectWithCompute, stateAfterThaw, waitFor, type CreatedCompute } from "./compute";
import { rejection, startSecondProxy } from "./proxy";
import type { RunningProxy } from "../proxy/start-proxy";
import { db } from "../server/db";
import { heldIdleThreads } from "../server/proxy-activity/held-threads";

// The proxy keeps a logged-in compute connection when its client quits cleanly (COM_QUIT, no reply
// pending), resets it (COM_RESET_CONNECTION) and gives it to the next client of the same role and
// settings instead of logging in again. Seen from the compute: the second client's CONNECTION_ID() is the
// first one's (the proxy maps only the id it greets clients with; CONNECTION_ID() is the server's), and
// none of the first client's session state is left. A proxy of one process (the shared test proxy has two
// workers, and each keeps its own connections).

let tenant: Tenant;
let c: CreatedCompute;
let proxy: RunningProxy;

beforeAll(async () => {
  tenant = await newTenant();
  c = await createProjectWithCompute(tenant);
  proxy = await startSecondProxy({ PROXY_ROUTE_CACHE_MS: "0" });
});

afterAll(async () => {
  await proxy?.stop(0).catch(() => undefined);
});

function connect(password = c.password, extra: Partial<mysql.ConnectionOptions> = {}) {
  return mysql.createConnection({ host: "127.0.0.1", port: extra.port ?? proxy.port, user: `${c.slug}.app`, password, database: "main", ...extra });
}

async function scalar(conn: mysql.Connection, sql: string): Promise<unknown> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
  return Object.values(rows[0]!)[0];
}

const stateOf = async (computeId: string) => (await db.compute.findUniqueOrThrow({ where: { id: computeId } })).state;

/**
 * Pause the compute by hand once the proxy's report names `thread` as its own and was written since the
 * thread's last command (as the pause's last look finds it: a thread that ran a command after the report
 * that names it counts as a session, and the report of a connection just pooled may lag by a moment).
 */
async function pause(computeId: string, thread: number): Promise<void> {
  await waitFor(
    async () => {
      const held = (await heldIdleThreads(computeId)).find((h) => h.id === thread);
      const idleMs = held && (await idleMsOf(thread));
      return held !== undefined && idleMs !== null && idleMs !== undefined && idleMs >= held.reportedMsAgo;
    },
    10_000,
    `thread ${thread} to be reported as the proxy's since its last command`,
  );
  const { pauseCompute } = await import("../server/compute/lifecycle/pause");
  expect(await pauseCompute({ actor: { system: "operator" }, computeId, reason: "paused by the test" })).not.toBeNull();
  expect(await stateOf(computeId)).toBe("paused");
}

/** How long the compute's thread has been idle, as the compute says (null: busy or gone). */
async function idleMsOf(thread: number): Promise<number | null> {
  const direct = await connectDirect(c.endpoint, c.password);
  try {
    const [rows] = await direct.query<mysql.RowDataPacket[]>("SELECT TIME_MS FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND = 'Sleep'", [thread]);
    return rows.length === 0 ? null : Number(rows[0]!.TIME_MS);
  } finally {
    await direct.end();
  }
}

const threadOf = async (conn: mysql.Connection) => Number(await scalar(conn, "SELECT CONNECTION_ID()"));

/** The compute's threads of the role, as the compute lists them (asked directly, not through the proxy). */
async function computeThreads(): Promise<number[]> {
  const direct = await connectDirect(c.endpoint, c.password);
  try {
    const [rows] = await direct.query<mysql.RowDataPacket[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app' AND ID <> CONNECTION_ID()");
    return rows.map((r) => Number(r.ID)).sort((a, b) => a - b);
  } finally {
    await direct.end();
  }
}

/** The client quits (COM_QUIT); the proxy resets its connection and keeps it idle. */
async function quit(conn: mysql.Connection, thread: number): Promise<void> {
  await conn.end();
  await waitFor(async () => proxy.serverPool.idleThreadIds(c.computeId).includes(thread), 10_000, `thread ${thread} to be pooled`);
}

describe("proxy: compute connections reused between client sessions", () => {
  it("gives the next client the same compute connection, with none of the first client's state", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    const loginMode = await scalar(first, "SELECT @@session.sql_mode"); // with IGNORE_SPACE: mysql2 asks for it at login
    await first.query("SET sql_mode = 'ANSI_QUOTES'");
    await first.query("CREATE TABLE IF NOT EXISTS pool_rows (id INT PRIMARY KEY) ENGINE=InnoDB");
    await first.query("SET @left_behind = 42, time_zone = '+05:00'");
    await first.query("CREATE TEMPORARY TABLE pool_temp (x INT)");
    expect(await scalar(first, "SELECT GET_LOCK('pool-test-lock', 0)")).toBe(1);
    await first.query("BEGIN");
    await first.query("INSERT INTO pool_rows VALUES (1)");
    await quit(first, thread); // with the transaction open and the lock held
    expect(await computeThreads()).toContain(thread); // kept open by the proxy, idle

    const second = await connect();
    expect(await threadOf(second)).toBe(thread);
    expect(second.threadId).not.toBe(first.threadId); // the proxy's ids stay one per client
    expect(await scalar(second, "SELECT @left_behind")).toBeNull();
    expect(await scalar(second, "SELECT @@session.time_zone")).toBe(await scalar(second, "SELECT @@global.time_zone"));
    expect(await scalar(second, "SELECT @@session.sql_mode")).toBe(loginMode); // as a fresh login's, not the global one
    await expect(second.query("SELECT * FROM pool_temp")).rejects.toMatchObject({ errno: 1146 });
    expect(await scalar(second, "SELECT COUNT(*) FROM pool_rows")).toBe(0); // rolled back
    expect(await scalar(second, "SELECT @@in_transaction")).toBe(0);
    expect(await scalar(second, "SELECT DATABASE()")).toBe("main");
    // The lock was released: another session (straight to the compute) takes it at once.
    const direct = await connectDirect(c.endpoint, c.password);
    expect(await scalar(direct, "SELECT GET_LOCK('pool-test-lock', 0)")).toBe(1);
    await direct.end();
    await quit(second, thread);
  });

  it("puts the login's database back, and keeps connections of another database apart", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    await first.query("CREATE DATABASE IF NOT EXISTS pool_other");
    await first.query("USE pool_other");
    await quit(first, thread);
    const second = await connect();
    expect(await threadOf(second)).toBe(thread);
    expect(await scalar(second, "SELECT DATABASE()")).toBe("main");
    await quit(second, thread);
    const other = await connect(c.password, { database: "pool_other" });
    expect(await threadOf(other)).not.toBe(thread); // another key: a login of its own
    await other.end();
  });

  it("closes a connection whose client left without COM_QUIT, or quit with a reply still pending", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    first.destroy(); // the socket closes, no COM_QUIT
    await waitFor(async () => !(await computeThreads()).includes(thread), 10_000, "the compute to close the connection");
    const second = await connect();
    expect(await threadOf(second)).not.toBe(thread);
    const secondThread = await threadOf(second);
    // A query sent and COM_QUIT right behind it, before the reply: the connection is not kept.
    const pending = second.query("SELECT SLEEP(0.3)").catch(() => undefined);
    (second as unknown as { connection: { stream: { write(b: Buffer): void } } }).connection.stream.write(Buffer.from([1, 0, 0, 0, 1]));
    await pending;
    second.destroy();
    await waitFor(async () => !(await computeThreads()).includes(secondThread), 10_000, "the compute to close the connection");
    expect(proxy.serverPool.idleThreadIds(c.computeId)).not.toContain(secondThread);
    const third = await connect();
    expect(await threadOf(third)).not.toBe(secondThread);
    await third.end();
  });

  it("never serves a changed password with an old pooled login", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    await quit(first, thread);
    const reset = await call<{ password: string }>("POST", `/api/v1/projects/${c.projectId}/roles/app/reset-password`, { key: tenant.key });
    expect(reset.status).toBe(200);
    const newPassword = reset.body.password;
    expect((await rejection(connect(c.password))).errno).toBe(1045);
    const second = await connect(newPassword);
    const secondThread = await threadOf(second);
    expect(secondThread).not.toBe(thread);
    await quit(second, secondThread);
    c.password = newPassword;
  });

  it("KILL reaches a reused connection by the id its client was given", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    await quit(first, thread);
    const victim = await connect();
    expect(await threadOf(victim)).toBe(thread);
    const sleeping = victim.query("SELECT SLEEP(20) AS slept").then(
      () => null,
      (error: { errno?: number }) => error.errno,
    );
    await waitFor(
      async () => {
        const direct = await connectDirect(c.endpoint, c.password);
        const running = await scalar(direct, `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ${thread} AND INFO LIKE 'SELECT SLEEP%'`);
        await direct.end();
        return running === 1;
      },
      10_000,
      "the sleep to run on the reused connection",
    );
    const killer = await connect();
    await killer.query(`KILL QUERY ${victim.threadId}`);
    expect(await sleeping).toBe(1317); // ER_QUERY_INTERRUPTED: the compute interrupted the sleep
    expect(await scalar(victim, "SELECT 1")).toBe(1); // the session itself goes on
    await killer.query(`KILL ${victim.threadId}`);
    await expect(victim.query("SELECT 1")).rejects.toBeTruthy();
    await killer.end();
    victim.destroy();
  });

  it("a compute whose only sessions are the proxy's pooled connections still pauses; the wake reuses them", async () => {
    const idle = await createProjectWithCompute(tenant, { suspendTimeoutSeconds: 2 });
    const client = await mysql.createConnection({ host: "127.0.0.1", port: proxy.port, user: `${idle.slug}.app`, password: idle.password, database: "main" });
    const thread = await threadOf(client);
    await client.end();
    await waitFor(async () => proxy.serverPool.idleThreadIds(idle.computeId).includes(thread), 10_000, "the connection to be pooled");
    await waitFor(async () => (await stateOf(idle.computeId)) === "paused", 30_000, "the scheduler to pause the compute");
    expect(proxy.serverPool.idleThreadIds(idle.computeId)).toEqual([thread]); // frozen with it, still pooled
    const woken = await mysql.createConnection({ host: "127.0.0.1", port: proxy.port, user: `${idle.slug}.app`, password: idle.password, database: "main" });
    expect(await threadOf(woken)).toBe(thread);
    expect(await stateAfterThaw(() => stateOf(idle.computeId))).toBe("running");
    await woken.end();
  });

  it("a warm wake takes the connection that was paused with its compute: no new login", async () => {
    const first = await connect();
    const thread = await threadOf(first);
    await quit(first, thread);
    await pause(c.computeId, thread);
    const woken = await connect();
    expect(await threadOf(woken)).toBe(thread);
    expect(await stateAfterThaw(() => stateOf(c.computeId))).toBe("running");
    await woken.end();
  });

  // With the route served from the proxy's cache (as for most connects: PROXY_ROUTE_CACHE_MS), whether the
  // compute still runs is not read again when a pooled connection answers COM_PING; a frozen one does not
  // answer, and the wake goes as without a pool (and the connection frozen with the compute is kept).
  describe("with the route cached", () => {
    let cached: RunningProxy;
    beforeAll(async () => {
      cached = await startSecondProxy({ PROXY_ROUTE_CACHE_MS: "60000" });
    });
    afterAll(async () => {
      await cached?.stop(0).catch(() => undefined);
    });
    const viaCache = () => connect(c.password, { port: cached.port });
    const pooledIn = (thread: number) => waitFor(async () => cached.serverPool.idleThreadIds(c.computeId).includes(thread), 10_000, "the connection to be pooled");

    it("reuses a connection of a running compute, and wakes a paused one, reusing its frozen connection", async () => {
      const first = await viaCache();
      const thread = await threadOf(first);
      await first.end();
      await pooledIn(thread);
      const second = await viaCache(); // the route is cached: the pooled connection is pinged
      expect(await threadOf(second)).toBe(thread);
      await second.end();
      await pooledIn(thread);

      await pause(c.computeId, thread); // the cached route still says running
      const woken = await viaCache();
      expect(await threadOf(woken)).toBe(thread);
      // The thawed server answers before the wake's compare-and-set is back (its commit is asynchronous):
      // the compute is recorded running right after, not necessarily before the first answer.
      await waitFor(async () => (await stateOf(c.computeId)) === "running", 5_000, "the wake to record the compute running");
      await woken.end();
    });
  });
});
