import type { Connection, RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newTenant, type Tenant } from "./api";
import { connectDirect, createProjectWithCompute, type CreatedCompute } from "./compute";
import { computeOf } from "./parking";
import { connectThrough, ServerConnectionSampler, startOwnProxy, type OwnProxy } from "./pooling";
import { rejection } from "./proxy";

// Pooling (issue 15) through the product's proxy with real mariadbd and mysql2 clients: many client sessions
// share few server connections of a compute, handed over at safe points; a session's state (time zone,
// sql_mode, database, user variables, prepared statements) goes with it and never to another client; an open
// transaction or a temporary table keeps its connection; and a client that cannot get one within the queue
// timeout gets error 1040 that says why. Each part runs a proxy of one process with the limits it needs.

async function rows(conn: Connection, sql: string, values?: unknown[]): Promise<RowDataPacket[]> {
  const [result] = await conn.query<RowDataPacket[]>(sql, values);
  return result;
}

const threadOf = async (conn: Connection) => Number((await rows(conn, "SELECT CONNECTION_ID() AS id"))[0]!.id);

/** Opens `count` clients, `wave` at a time (a burst stays under the proxy's per-address cap on logins in progress). */
async function openClients(proxy: OwnProxy, c: CreatedCompute, count: number, wave = 100): Promise<Connection[]> {
  const clients: Connection[] = [];
  while (clients.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(wave, count - clients.length) }, () => connectThrough(proxy, c)));
    for (const conn of batch) conn.on("error", () => undefined); // a failure shows in the statement that meets it
    clients.push(...batch);
  }
  return clients;
}

describe("proxy pooling: 2,000 clients on one 0.25 CU compute", () => {
  const LIMIT = 40;
  const CLIENTS = 2000;
  const RUN_MS = 30_000;
  let proxy: OwnProxy;

  beforeAll(async () => {
    proxy = await startOwnProxy({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: String(LIMIT) });
  });
  afterAll(async () => proxy?.stop());

  it("serves them all for 30 s after a cold wake, keeps every acknowledged write, and never exceeds its server-connection limit", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant, { size: 0.25 });
    const setup = await connectThrough(proxy, c);
    await setup.query("CREATE TABLE pool_load (id BIGINT AUTO_INCREMENT PRIMARY KEY, client INT NOT NULL, v VARCHAR(40) NOT NULL UNIQUE, KEY (client))");
    await setup.end();
    expect((await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key })).status).toBe(200);
    expect((await computeOf(tenant, c.computeId)).state).toBe("suspended");

    const clients = await openClients(proxy, c, CLIENTS);
    const sampler = new ServerConnectionSampler(tenant, c);
    sampler.start();
    const acknowledged: string[] = [];
    const errors: string[] = [];
    const deadline = Date.now() + RUN_MS;
    let statements = 0;
    // Every tenth statement of a client writes a value of its own; the others read the client's latest row
    // back (a short SELECT on the same table), which must be its last acknowledged write whatever server
    // connection serves the read.
    const work = async (conn: Connection, client: number) => {
      let last: string | null = null;
      for (let k = 0; Date.now() < deadline; k++) {
        try {
          if ((k + client) % 10 === 0) {
            const v = `${client}-${k}`;
            await conn.query("INSERT INTO pool_load (client, v) VALUES (?, ?)", [client, v]);
            acknowledged.push(v);
            last = v;
          } else {
            const read = await rows(conn, "SELECT v FROM pool_load WHERE client = ? ORDER BY id DESC LIMIT 1", [client]);
            if ((read[0]?.v ?? null) !== last) errors.push(`client ${client} read ${read[0]?.v} after writing ${last}`);
          }
          statements++;
        } catch (error) {
          errors.push(`client ${client}: ${(error as Error).message}`);
          return;
        }
      }
    };
    await Promise.all(clients.map((conn, i) => work(conn, i)));
    const samples = await sampler.stop();
    await Promise.all(clients.map((conn) => conn.end().catch(() => conn.destroy())));

    expect(errors.slice(0, 5)).toEqual([]);
    expect(errors.length).toBe(0);
    expect(statements).toBeGreaterThan(CLIENTS); // every client ran, most of them more than once
    const check = await connectThrough(proxy, c);
    const stored = (await rows(check, "SELECT v FROM pool_load")).map((r) => String(r.v));
    await check.end();
    expect(stored.length).toBe(acknowledged.length);
    expect(new Set(stored)).toEqual(new Set(acknowledged));
    expect(sampler.failure).toBeNull();
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.max(...samples)).toBeGreaterThan(0); // the sampler saw the proxy's connections
    expect(Math.max(...samples)).toBeLessThanOrEqual(LIMIT);
    console.info(`${CLIENTS} clients, ${statements} statements (${acknowledged.length} writes), at most ${Math.max(...samples)} server connections seen (limit ${LIMIT})`);
  }, 300_000);
});

describe("proxy pooling: what a session holds stays its own", () => {
  const LIMIT = 2;
  const QUEUE_TIMEOUT_S = 3;
  let proxy: OwnProxy;
  let tenant: Tenant;

  beforeAll(async () => {
    proxy = await startOwnProxy({ PROXY_SERVER_CONNECTIONS_PER_COMPUTE: String(LIMIT), PROXY_POOL_QUEUE_TIMEOUT_SECONDS: String(QUEUE_TIMEOUT_S) });
    tenant = await newTenant();
  });
  afterAll(async () => proxy?.stop());

  it("three clients with their own time zone, sql_mode, database, variables and prepared statement share two server connections for 10,000 statements, each always seeing its own", async () => {
    const c = await createProjectWithCompute(tenant);
    const setup = await connectThrough(proxy, c);
    for (const db of ["pool_b", "pool_c"]) await setup.query(`CREATE DATABASE ${db}`);
    await setup.end();
    const profiles = [
      { db: "main", mode: "ANSI_QUOTES", hour: 1 },
      { db: "pool_b", mode: "PIPES_AS_CONCAT", hour: 2 },
      { db: "pool_c", mode: "ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES", hour: 3 },
    ];
    const zone = (hour: number, step: number) => `+0${hour}:${String((step % 4) * 15).padStart(2, "0")}`;
    const clients = await openClients(proxy, c, profiles.length);
    const expected = profiles.map((p) => ({ tz: zone(p.hour, 0), mode: p.mode, db: p.db, v: `${p.db}:0` }));
    for (const [i, conn] of clients.entries()) {
      const p = profiles[i]!;
      await conn.query(`USE ${p.db}`);
      await conn.query(`SET time_zone = '${expected[i]!.tz}', sql_mode = '${p.mode}', @v = '${expected[i]!.v}'`);
    }
    // The first client reads back through a prepared statement: on whichever connection serves it, the
    // proxy must have it prepared.
    const readback = "SELECT @@time_zone AS tz, @@sql_mode AS mode, DATABASE() AS db, @v AS v, CONNECTION_ID() AS server";
    const prepared = await clients[0]!.prepare(readback);

    const servers = new Set<number>();
    const wrong: string[] = [];
    let statements = 0;
    for (let round = 1; statements < 10_000; round++) {
      await Promise.all(
        clients.map(async (conn, i) => {
          if (round % 10 === i) {
            // Now and then a client changes its state; from then on it must read the new values.
            expected[i] = { ...expected[i]!, tz: zone(profiles[i]!.hour, round), v: `${profiles[i]!.db}:${round}` };
            await conn.query(`SET time_zone = '${expected[i]!.tz}', @v = '${expected[i]!.v}'`);
          } else {
            const [result] = i === 0 ? await prepared.execute([]) : await conn.query(readback);
            const { server, ...seen } = (result as RowDataPacket[])[0]!;
            servers.add(Number(server));
            if (JSON.stringify(seen) !== JSON.stringify(expected[i])) wrong.push(`client ${i} round ${round}: ${JSON.stringify(seen)}`);
          }
          statements++;
        }),
      );
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(servers.size).toBeLessThanOrEqual(LIMIT); // three sessions, at most two server connections: they shared
    await prepared.close();
    for (const conn of clients) await conn.end();
  }, 180_000);

  it("keeps a transaction's server connection until COMMIT while other clients are served on the other", async () => {
    const c = await createProjectWithCompute(tenant);
    const [holder, ...others] = await openClients(proxy, c, 3);
    await holder!.query("CREATE TABLE pool_tx (n INT)");
    await holder!.query("BEGIN");
    await holder!.query("INSERT INTO pool_tx VALUES (1)");
    const held = await threadOf(holder!);
    for (let round = 2; round <= 50; round++) {
      const [inside, ...seen] = await Promise.all([
        (async () => {
          await holder!.query("INSERT INTO pool_tx VALUES (?)", [round]);
          return threadOf(holder!);
        })(),
        ...others.map(async (conn) => ({ thread: await threadOf(conn), count: Number((await rows(conn, "SELECT COUNT(*) AS n FROM pool_tx"))[0]!.n) })),
      ]);
      expect(inside).toBe(held);
      for (const other of seen) {
        expect(other.thread).not.toBe(held); // the transaction's connection is not lent out
        expect(other.count).toBe(0); // and its rows are not committed
      }
    }
    await holder!.query("COMMIT");
    expect(await rows(others[0]!, "SELECT COUNT(*) AS n FROM pool_tx")).toEqual([{ n: 50 }]);
    for (const conn of [holder!, ...others]) await conn.end();
  }, 120_000);

  it("keeps a temporary table's server connection: its CONNECTION_ID() never changes, the table stays readable, and no one else sees it", async () => {
    const c = await createProjectWithCompute(tenant);
    const [owner, ...others] = await openClients(proxy, c, 3);
    await owner!.query("CREATE TEMPORARY TABLE scratch (n INT)");
    await owner!.query("INSERT INTO scratch VALUES (7)");
    const pinned = await threadOf(owner!);
    for (let round = 0; round < 50; round++) {
      const [mine, ...theirs] = await Promise.all([
        rows(owner!, "SELECT CONNECTION_ID() AS id, SUM(n) AS total FROM scratch"),
        ...others.map(async (conn) => ({ thread: await threadOf(conn), scratch: await rejection(conn.query("SELECT * FROM scratch")).then((e) => e.errno) })),
      ]);
      expect(mine).toEqual([{ id: pinned, total: "7" }]);
      for (const other of theirs) {
        expect(other.thread).not.toBe(pinned);
        expect(other.scratch).toBe(1146); // no such table: it is the owner's alone
      }
    }
    for (const conn of [owner!, ...others]) await conn.end();
  }, 120_000);

  it("answers the client that cannot get a server connection within the queue timeout with error 1040, and leaves nothing half-done", async () => {
    const c = await createProjectWithCompute(tenant);
    const [first, second, third] = await openClients(proxy, c, 3);
    await first!.query("CREATE TABLE pool_limit (n INT)");
    for (const [conn, n] of [[first!, 1], [second!, 2]] as const) {
      await conn.query("BEGIN");
      await conn.query("INSERT INTO pool_limit VALUES (?)", [n]);
    }
    const sampler = new ServerConnectionSampler(tenant, c);
    sampler.start();
    const started = Date.now();
    const refused = await rejection(
      (async () => {
        await third!.query("BEGIN");
        await third!.query("INSERT INTO pool_limit VALUES (3)");
      })(),
    );
    const waitedMs = Date.now() - started;
    expect(refused).toMatchObject({ errno: 1040, sqlState: "08004" });
    // It says what the limit is and what to do about it.
    expect(refused.message).toMatch(new RegExp(`at its limit of ${LIMIT} server connections`));
    expect(refused.message).toMatch(/larger compute size|fewer transactions open/);
    expect(waitedMs).toBeGreaterThanOrEqual(QUEUE_TIMEOUT_S * 1000 - 50); // it queued before it was refused
    const samples = await sampler.stop();
    expect(sampler.failure).toBeNull();
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(LIMIT);

    await first!.query("COMMIT");
    await second!.query("ROLLBACK");
    // The refused client does what an application does after an error: roll back, and try again.
    await third!.query("ROLLBACK");
    await third!.query("BEGIN");
    await third!.query("INSERT INTO pool_limit VALUES (3)");
    await third!.query("COMMIT");
    const direct = await connectDirect((await computeOf(tenant, c.computeId)).endpoint!, c.password);
    expect(await rows(direct, "SELECT n FROM pool_limit ORDER BY n")).toEqual([{ n: 1 }, { n: 3 }]);
    await direct.end();
    for (const conn of [first!, second!, third!]) await conn.end();
  }, 120_000);
});
