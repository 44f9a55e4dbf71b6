import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningProxy } from "../proxy/start-proxy";
import { PROXY_SLOT_SIZE } from "../server/proxy-activity/constants";
import { newTenant } from "./api";
import { createProjectWithCompute, type CreatedCompute } from "./compute";
import { proxyPort, startSecondProxy } from "./proxy";

// KILL reaches a session the moment it exists, whichever proxy process holds it (issue 9): the id's slot
// names the owner, which is asked directly (another worker through the primary, another proxy instance
// through PostgreSQL). Pools are the clients that kill young connections; this is mysql2's own pool test
// ("kill ?; select sleep(0.05)" for each pool connection) sent the instant each connection's first query
// returns, many times over, through the product's proxy (2 workers) and through a second instance.

const ROUNDS = 50;
const POOL_SIZE = 5;

let other: RunningProxy;
let c: CreatedCompute;

beforeAll(async () => {
  other = await startSecondProxy();
  c = await createProjectWithCompute(await newTenant());
});

afterAll(async () => {
  await other?.stop(0).catch(() => undefined);
});

type Where = { host: string; port: number; user: string };
const viaProxy = (port: () => number): (() => Where) => () => ({ host: "127.0.0.1", port: port(), user: `${c.slug}.app` });
const direct = (): Where => ({ ...c.endpoint, user: "app" });
const options = (where: Where) => ({ ...where, password: c.password, database: "main", connectTimeout: 30_000 });

const slotOf = (id: number) => Math.floor(id / PROXY_SLOT_SIZE);

/** What a client sees of an error: mysql2's code and the server's errno, when there is one. */
const seen = (error: unknown) => ({ code: (error as { code?: string }).code, errno: (error as { errno?: number }).errno });

/** Settles with the connection's next 'error' (a killed idle connection has no query to fail). */
function nextError(conn: mysql.PoolConnection): Promise<{ code?: string; errno?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection ${conn.threadId} was never told it was killed`)), 15_000);
    conn.once("error", (error: unknown) => {
      clearTimeout(timer);
      resolve(seen(error));
    });
  });
}

/**
 * mysql2's pool scenario, `rounds` times: a pool of POOL_SIZE connections each runs SELECT 1, and as soon
 * as it returns, the killer connection sends `KILL <threadId>; SELECT SLEEP(0.05)` for it. Returns every
 * KILL's reply, what each killed connection saw, and the slots of the pool connections and the killer.
 */
async function poolScenario(pool: () => Where, killerAt: Where, rounds: number) {
  const killer = await mysql.createConnection({ ...options(killerAt), multipleStatements: true });
  const replies: unknown[] = [];
  const errors: { code?: string; errno?: number }[] = [];
  const slots: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const p = mysql.createPool({ ...options(pool()), connectionLimit: POOL_SIZE });
      try {
        const conns = await Promise.all(Array.from({ length: POOL_SIZE }, () => p.getConnection()));
        await Promise.all(
          conns.map(async (conn) => {
            slots.push(slotOf(conn.threadId));
            const killed = nextError(conn);
            await conn.query("SELECT 1");
            const [reply] = await killer.query(`KILL ${conn.threadId}; SELECT SLEEP(0.05) AS slept`);
            replies.push(reply);
            errors.push(await killed);
          }),
        );
      } finally {
        await p.end().catch(() => undefined);
      }
    }
    return { replies, errors, slots, killerSlot: slotOf(killer.threadId) };
  } finally {
    killer.destroy();
  }
}

/** The KILL's reply to the pool test's statement pair: an OK, then the SLEEP's row. */
const killed = [expect.objectContaining({ affectedRows: 0, warningStatus: 0 }), [{ slept: 0 }]];

describe("proxy: KILL of a young session, whichever process holds it", () => {
  let straight: { code?: string; errno?: number };

  it("straight to the compute: every KILL succeeds (the baseline)", async () => {
    const r = await poolScenario(direct, direct(), 2);
    expect(r.replies).toEqual(Array.from({ length: 2 * POOL_SIZE }, () => killed));
    straight = r.errors[0]!;
    expect(r.errors).toEqual(r.errors.map(() => straight)); // each killed connection sees the same error
  });

  it(`through the proxy's workers: every KILL succeeds and every killed connection sees its error, ${ROUNDS} rounds`, async () => {
    const r = await poolScenario(viaProxy(proxyPort), viaProxy(proxyPort)(), ROUNDS);
    expect(r.replies).toEqual(Array.from({ length: ROUNDS * POOL_SIZE }, () => killed));
    expect(r.errors).toEqual(r.errors.map(() => straight));
    // Round-robin puts pool connections on both workers: many KILLs crossed from one worker to the other.
    expect(new Set(r.slots).size).toBe(2);
    expect(r.slots.filter((slot) => slot !== r.killerSlot).length).toBeGreaterThan(0);
  }, 300_000);

  it(`through another proxy instance: every KILL succeeds and every killed connection sees its error, ${ROUNDS} rounds`, async () => {
    const r = await poolScenario(viaProxy(proxyPort), viaProxy(() => other.port)(), ROUNDS);
    expect(r.replies).toEqual(Array.from({ length: ROUNDS * POOL_SIZE }, () => killed));
    expect(r.errors).toEqual(r.errors.map(() => straight));
    expect(r.slots).not.toContain(r.killerSlot);
  }, 300_000);

  /**
   * Until the statement runs on the compute (seen by a connection of its own, straight to the compute):
   * a KILL QUERY that reaches the compute before the statement starts finds nothing to cancel, through
   * the proxy or not. Within a millisecond or two of sending.
   */
  async function running(watcher: mysql.Connection, sql: string): Promise<void> {
    for (let i = 0; i < 5_000; i++) {
      const [rows] = await watcher.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = ?", [sql]);
      if (Number((rows as { n: number }[])[0]!.n) > 0) return;
    }
    throw new Error(`${sql} never started`);
  }

  /** A connection to the product's proxy held by another worker than `session`'s. */
  async function onAnotherWorker(session: mysql.Connection): Promise<mysql.Connection> {
    const spares: mysql.Connection[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const conn = await mysql.createConnection(options(viaProxy(proxyPort)()));
        if (slotOf(conn.threadId) !== slotOf(session.threadId)) return conn;
        spares.push(conn);
      }
      throw new Error("no connection landed on another worker");
    } finally {
      for (const spare of spares) spare.destroy();
    }
  }

  for (const from of ["another worker", "another proxy instance"] as const) {
    it(`KILL QUERY from ${from} cancels a SLEEP(10) that has just started`, async () => {
      const watcher = await mysql.createConnection(options(direct()));
      for (let i = 0; i < 10; i++) {
        const session = await mysql.createConnection(options(viaProxy(proxyPort)()));
        const killer =
          from === "another worker" ? await onAnotherWorker(session) : await mysql.createConnection(options(viaProxy(() => other.port)()));
        const sql = `SELECT SLEEP(10) AS slept_${i}`;
        const slow = session.query(sql);
        slow.catch(() => undefined); // awaited below; it may fail before the KILL's own reply arrives
        await running(watcher, sql);
        await killer.query(`KILL QUERY ${session.threadId}`);
        await expect(slow).rejects.toMatchObject({ errno: 1317 });
        expect((await session.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]); // the session lives on
        session.destroy();
        killer.destroy();
      }
      watcher.destroy();
    });
  }

  /** The error a query sees when its connection is killed with KILL CONNECTION, straight to the compute. */
  let killedMidQuery: { code?: string; errno?: number } | undefined;

  for (const from of ["straight to the compute", "another worker", "another proxy instance"] as const) {
    it(`KILL CONNECTION ${from === "straight to the compute" ? from : `from ${from}`} ends a session in the middle of its query, which sees its error`, async () => {
      const watcher = await mysql.createConnection(options(direct()));
      for (let i = 0; i < 10; i++) {
        const at = from === "straight to the compute" ? direct() : viaProxy(proxyPort)();
        const session = await mysql.createConnection(options(at));
        session.on("error", () => undefined);
        const killer =
          from === "straight to the compute"
            ? await mysql.createConnection(options(at))
            : from === "another worker"
              ? await onAnotherWorker(session)
              : await mysql.createConnection(options(viaProxy(() => other.port)()));
        const sql = `SELECT SLEEP(10) AS slept_${i}`;
        const slow = session.query(sql);
        const failed = slow.then(() => null, seen);
        await running(watcher, sql);
        await killer.query(`KILL CONNECTION ${session.threadId}`);
        const error = await failed;
        expect(error).not.toBeNull();
        if (from === "straight to the compute") killedMidQuery ??= error!;
        expect(error).toEqual(killedMidQuery);
        session.destroy();
        killer.destroy();
      }
      watcher.destroy();
    });
  }

  it("keeps other projects' sessions out of reach, and answers 1094 for a closed session or a gone owner", async () => {
    const stranger = await createProjectWithCompute(await newTenant());
    const session = await mysql.createConnection(options(viaProxy(proxyPort)()));
    const strangers = [
      await mysql.createConnection({ ...options(viaProxy(proxyPort)()), user: `${stranger.slug}.app`, password: stranger.password }),
      await mysql.createConnection({ ...options(viaProxy(proxyPort)()), user: `${stranger.slug}.app`, password: stranger.password }),
      await mysql.createConnection({ ...options(viaProxy(() => other.port)()), user: `${stranger.slug}.app`, password: stranger.password }),
    ];
    for (const killer of strangers) {
      await expect(killer.query(`KILL ${session.threadId}`)).rejects.toMatchObject({ errno: 1094 });
      await expect(killer.query(`KILL QUERY ${session.threadId}; SELECT 1`)).rejects.toMatchObject({ errno: 1094 });
    }
    expect((await session.query("SELECT 2 AS ok"))[0]).toEqual([{ ok: 2 }]);

    // A session that closed: its id reaches nothing, on its own worker, another one or another instance.
    const closedId = session.threadId;
    await session.end();
    const killers = [
      await mysql.createConnection(options(viaProxy(proxyPort)())),
      await mysql.createConnection(options(viaProxy(proxyPort)())),
      await mysql.createConnection(options(viaProxy(() => other.port)())),
    ];
    for (const killer of killers) await expect(killer.query(`KILL ${closedId}`)).rejects.toMatchObject({ errno: 1094 });

    // An owner that is gone: a third proxy instance with an open session stops.
    const third = await startSecondProxy();
    const orphan = await mysql.createConnection(options(viaProxy(() => third.port)()));
    const orphanId = orphan.threadId;
    orphan.on("error", () => undefined);
    await third.stop(0);
    for (const killer of killers) await expect(killer.query(`KILL ${orphanId}`)).rejects.toMatchObject({ errno: 1094 });
    for (const conn of [...strangers, ...killers]) conn.destroy();
  });
});
