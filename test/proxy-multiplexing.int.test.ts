import mysql from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import type { RunningProxy } from "../proxy/start-proxy";
import { call, newTenant } from "./api";
import { createProjectWithCompute, createRole } from "./compute";
import { startSecondProxy } from "./proxy";

// Multiplexing (issue 15) at its smallest: a proxy allowed two server connections per compute serves six
// clients with six different session states, each statement on whichever connection is free, and each
// client always sees its own state; a transaction keeps its connection until COMMIT.

const proxies: RunningProxy[] = [];
afterAll(async () => {
  for (const proxy of proxies) await proxy.stop(0).catch(() => undefined);
});

/**
 * A proxy of its own with these settings (stopped after the file) and a new tenant's compute behind it;
 * `connect` logs in through it, as the compute's `app` role unless told otherwise.
 */
async function proxyWithCompute(settings: Record<string, string>, computeSettings: Record<string, unknown> = {}) {
  const proxy = await startSecondProxy(settings);
  proxies.push(proxy);
  const tenant = await newTenant();
  const c = await createProjectWithCompute(tenant, computeSettings);
  const connect = (login: { database?: string; role?: string; password?: string } = {}) =>
    mysql.createConnection({
      host: "127.0.0.1",
      port: proxy.port,
      user: `${c.slug}.${login.role ?? "app"}`,
      password: login.password ?? c.password,
      database: login.database ?? "main",
      connectTimeout: 30_000,
    });
  /** The proxy's take-overs so far (proxy_pool_takeovers_total), by whether the states matched. */
  const takeovers = async () => {
    const text = await (await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`)).text();
    const count = (state: string) => Number(new RegExp(`^proxy_pool_takeovers_total\\{state="${state}"\\} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
    return { same: count("same"), restored: count("restored") };
  };
  return { tenant, c, connect, takeovers };
}

describe("proxy: client sessions share a compute's server connections", () => {
  it("serves six differently set-up clients over two server connections, each in its own state", async () => {
    const { connect } = await proxyWithCompute({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: "2", PROXY_POOL_QUEUE_TIMEOUT_SECONDS: "20" });
    const setup = await connect();
    await setup.query("CREATE DATABASE other");
    await setup.end();

    const zones = ["+01:00", "+02:00", "-03:00", "+04:30", "-05:00", "+06:00"];
    const clients = await Promise.all(zones.map((_, i) => connect({ database: i % 2 === 0 ? "main" : "other" })));
    for (const [i, conn] of clients.entries()) {
      await conn.query(`SET time_zone = '${zones[i]}', sql_mode = '${i % 2 === 0 ? "ANSI_QUOTES" : "NO_ZERO_DATE"}'`);
      await conn.query(`SET @me = 'client ${i}'`);
    }
    const threads = new Set<number>();
    const perClient = zones.map(() => new Set<number>());
    await Promise.all(
      clients.map(async (conn, i) => {
        for (let n = 0; n < 100; n++) {
          const [rows] = await conn.query("SELECT @@time_zone AS tz, @@sql_mode AS mode, DATABASE() AS db, @me AS me, CONNECTION_ID() AS thread");
          const row = (rows as Record<string, unknown>[])[0]!;
          expect({ tz: row.tz, mode: row.mode, db: row.db, me: row.me }).toEqual({
            tz: zones[i],
            mode: i % 2 === 0 ? "ANSI_QUOTES" : "NO_ZERO_DATE",
            db: i % 2 === 0 ? "main" : "other",
            me: `client ${i}`,
          });
          threads.add(Number(row.thread));
          perClient[i]!.add(Number(row.thread));
        }
      }),
    );
    // Two server connections served everyone, and clients moved between them.
    expect(threads.size).toBeLessThanOrEqual(2);
    expect(perClient.some((seen) => seen.size > 1)).toBe(true);

    // A transaction holds its connection until it ends; the others are served meanwhile on the other one.
    const [a, b] = clients;
    await a!.query("BEGIN");
    const [[first]] = (await a!.query("SELECT CONNECTION_ID() AS id")) as unknown as [[{ id: number }]];
    for (let n = 0; n < 20; n++) await b!.query("SELECT 1");
    const [[second]] = (await a!.query("SELECT CONNECTION_ID() AS id")) as unknown as [[{ id: number }]];
    expect(second.id).toBe(first.id);
    await a!.query("COMMIT");
    for (const conn of clients) await conn.end();
  });
});

describe("proxy: sessions in the same state share a connection and its follower", () => {
  it("tells two such sessions apart again once one of them changes its state", async () => {
    // One server connection for two sessions set up alike: every statement is a take-over that finds the
    // connection in the taker's state and goes on with the previous owner's follower of it. What one of
    // them changes afterwards is its own, and is restored for it (and undone for the other) at each turn.
    // The proxy counts the take-overs that found the connection as the taker needed it ("same"), and those
    // it had to reset and restore ("restored").
    const { connect, takeovers } = await proxyWithCompute({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: "1", PROXY_POOL_QUEUE_TIMEOUT_SECONDS: "20" });
    const [a, b] = [await connect(), await connect()];
    const look = async (conn: mysql.Connection) => {
      const [rows] = await conn.query("SELECT @@time_zone AS tz, @mark AS mark, CONNECTION_ID() AS thread");
      return (rows as { tz: string; mark: string | null; thread: number }[])[0]!;
    };
    const initial = await look(a);
    // The first turns of new sessions restore the connection in full: what they are is not all known yet.
    for (let n = 0; n < 3; n++) {
      await look(b);
      await look(a);
    }
    const before = await takeovers();
    const threads = new Set<number>();
    for (let n = 0; n < 20; n++) {
      for (const conn of [a, b]) {
        const seen = await look(conn);
        expect({ tz: seen.tz, mark: seen.mark }).toEqual({ tz: initial.tz, mark: null });
        threads.add(seen.thread);
      }
    }
    expect(threads.size).toBe(1);
    const alike = await takeovers();
    // Each statement but the first (a holds the connection already) took it over from the other session, as it was.
    expect(alike.same - before.same).toBeGreaterThanOrEqual(39);
    expect(alike.restored - before.restored).toBe(0);
    await a.query("SET time_zone = '+05:00', @mark = 'a'");
    for (let n = 0; n < 20; n++) {
      expect(await look(b)).toMatchObject({ tz: initial.tz, mark: null });
      expect(await look(a)).toMatchObject({ tz: "+05:00", mark: "a" });
    }
    // Now that they differ, every take-over restores the taker's state.
    expect((await takeovers()).restored - alike.restored).toBeGreaterThanOrEqual(39);
    await b.query("SET @mark = 'b'");
    for (let n = 0; n < 10; n++) {
      expect(await look(a)).toMatchObject({ tz: "+05:00", mark: "a" });
      expect(await look(b)).toMatchObject({ tz: initial.tz, mark: "b" });
    }
    await a.end();
    await b.end();
  });
});

describe("proxy: sessions set up alike hand one connection to each other directly", () => {
  it("keeps each session's LAST_INSERT_ID() its own while four of them take turns on one connection", async () => {
    // Statements that change nothing a capture reads: a waiting session takes the connection in the same
    // step as the owner's reply ends (proxy/connection-broker.ts, handOver), and one whose LAST_INSERT_ID()
    // differs gets it put back first. Each client must still see only what it did.
    const { connect, takeovers } = await proxyWithCompute({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: "1", PROXY_POOL_QUEUE_TIMEOUT_SECONDS: "20" });
    const setup = await connect();
    await setup.query("CREATE TABLE ids (id INT AUTO_INCREMENT PRIMARY KEY)");
    await setup.end();
    const clients = [await connect(), await connect(), await connect(), await connect()];
    const [writer] = clients;
    await writer!.query("INSERT INTO ids () VALUES (), (), ()"); // LAST_INSERT_ID() = 1, the first of the three
    // Each session's first turns on the connection restore it in full (the proxy answers SELECT 1 itself).
    for (let n = 0; n < 3; n++) for (const conn of clients) await conn.query("SELECT 2");
    const before = await takeovers();
    const threads = new Set<number>();
    // Only the writer asks for LAST_INSERT_ID() (a statement naming it makes its session's state worth a
    // capture at each surrender); the others' connections go to the next session without one.
    await Promise.all(
      clients.map(async (conn, i) => {
        for (let n = 0; n < 50; n++) {
          const sql = i === 0 ? "SELECT LAST_INSERT_ID() AS last, DATABASE() AS db, CONNECTION_ID() AS thread" : "SELECT DATABASE() AS db, CONNECTION_ID() AS thread";
          const [rows] = await conn.query(sql);
          const row = (rows as { last?: number; db: string; thread: number }[])[0]!;
          expect({ client: i, last: row.last === undefined ? undefined : Number(row.last), db: row.db }).toEqual({ client: i, last: i === 0 ? 1 : undefined, db: "main" });
          threads.add(row.thread);
        }
      }),
    );
    expect(threads.size).toBe(1);
    const after = await takeovers();
    // The connection changed hands again and again (a quick client keeps it for a turn of up to 16
    // statements while others wait: at least 12 hand-overs for 200), and no take-over needed a reset.
    expect(after.same - before.same).toBeGreaterThanOrEqual(12);
    expect(after.restored - before.restored).toBe(0);
    for (const conn of clients) await conn.end();
  });
});

describe("proxy: a take-over checks the session's password", () => {
  it("goes on while the role's password stays, and ends the session that would take over once it changed", async () => {
    // One server connection for two sessions of one role: every other statement is a take-over. No route
    // cache: each take-over reads the route afresh (a new route each time, the same password hash).
    const { tenant, c, connect: login } = await proxyWithCompute({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: "1", PROXY_POOL_QUEUE_TIMEOUT_SECONDS: "20", PROXY_ROUTE_CACHE_MS: "0" });
    const password = await createRole(tenant, c.projectId, "worker");
    const connect = (secret: string) => login({ role: "worker", password: secret });
    const [a, b] = await Promise.all([connect(password), connect(password)]);
    const threadOf = async (conn: mysql.Connection) => Number(((await conn.query("SELECT CONNECTION_ID() AS id")) as unknown as [[{ id: number }]])[0][0].id);
    const threads = new Set<number>();
    for (let n = 0; n < 10; n++) for (const conn of [a!, b!]) threads.add(await threadOf(conn));
    expect(threads.size).toBe(1); // one connection, taken over back and forth

    const reset = await call<{ password: string }>("POST", `/api/v1/projects/${c.projectId}/roles/worker/reset-password`, { key: tenant.key });
    expect(reset.status).toBe(200);
    // b ran last: a's next statement takes the connection over, and a logged in with the old password.
    // (Not SELECT 1: a session without a connection answers that pool validation query itself.)
    await expect(a!.query("SELECT 2")).rejects.toMatchObject({ errno: 1045, message: expect.stringMatching(/role 'worker' of project '.*' or its password changed meanwhile; reconnect/) });
    const renewed = await connect(reset.body.password);
    expect(await threadOf(renewed)).toBeGreaterThan(0);
    for (const conn of [b!, renewed]) await conn.end().catch(() => conn.destroy());
    a!.destroy();
  });
});

describe("proxy: a compute whose sessions never park shares its connections all the same", () => {
  it("serves a client at once while the sessions holding the connections idle", async () => {
    // Suspend timeout 0: parking is off. Each session's park check then came 50 ms after it got a
    // connection, took the connection off offer and, not parking, left it idle with that session: with
    // every connection so held, the next client waited out the queue and got 1040.
    const { connect } = await proxyWithCompute({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: "2", PROXY_POOL_QUEUE_TIMEOUT_SECONDS: "3" }, { suspendTimeoutSeconds: 0 });
    const clients: mysql.Connection[] = [];
    for (let i = 0; i < 4; i++) {
      const conn = await connect();
      await conn.query("SELECT 1");
      clients.push(conn);
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // past any park check
    const late = await connect();
    const [[row]] = (await late.query("SELECT 'served' AS answer")) as unknown as [[{ answer: string }]];
    expect(row.answer).toBe("served");
    // And each idle client is served in turn as well.
    for (const conn of clients) await expect(conn.query("SELECT 1")).resolves.toBeDefined();
    for (const conn of [...clients, late]) await conn.end();
  });
});
