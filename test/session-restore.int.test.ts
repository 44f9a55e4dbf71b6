import mariadb from "mariadb";
import mysql, { type Connection } from "mysql2/promise";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SessionFollower } from "../proxy/session-state/session-follower";
import { TRACKING_SETUP_SQL } from "../proxy/session-state/tracking-settings";
import { startPlainMariadb, type PlainMariadb } from "./plain-mariadbd";
import { applyPlan, planFor, rowsOf, snapshot, type Rows } from "./session-state-helpers";
import { startTap, type Tap } from "./session-tap";

// Parking and restoring against a real mariadbd: a session's state is set on connection A (followed
// through a TCP tap), captured and turned into a restore plan, the plan is run on a fresh connection B,
// and every value the server reports on A and on B must be equal - variables, database, user variables
// with their types and bytes, LAST_INSERT_ID(), prepared statements' results, the pending transaction's
// characteristics. A seeded random walk then checks that the follower never calls a session parkable
// while the server holds a transaction, a lock or a temporary table for it, and that restore reproduces
// whatever state the walk left.

let server: PlainMariadb;
let tap: Tap;

beforeAll(async () => {
  server = await startPlainMariadb();
  tap = await startTap(server.port);
  const root = await mysql.createConnection({ socketPath: server.socketPath, user: "root", multipleStatements: true });
  await root.query(`
    CREATE TABLE appdb.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;
    CREATE TABLE otherdb.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;
    INSERT INTO otherdb.t (v) VALUES (1), (2), (3);
    CREATE TABLE appdb.probe (a INT) ENGINE=MyISAM;
  `);
  await root.end();
});

/** Connections a test opened: destroyed after it even when it failed midway (an open transaction would block the next). */
const opened: Connection[] = [];
afterEach(() => opened.splice(0).forEach((conn) => conn.destroy()));

afterAll(async () => {
  await tap?.close();
  await server?.stop();
});

async function sessionA(): Promise<{ conn: Connection; follower: SessionFollower }> {
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: tap.port, user: server.user, password: server.password, database: "appdb", multipleStatements: true });
  opened.push(conn);
  const follower = tap.sessions.at(-1)!.follower!;
  await conn.query(TRACKING_SETUP_SQL);
  return { conn, follower };
}

/** A fresh login as the same role, without a database: where a parked session is restored (also followed). */
async function sessionB(): Promise<{ conn: Connection; follower: SessionFollower }> {
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: tap.port, user: server.user, password: server.password });
  opened.push(conn);
  return { conn, follower: tap.sessions.at(-1)!.follower! };
}

/**
 * The characteristics the next transaction gets, as the server's own tracker reports them (a pending
 * one-shot SET TRANSACTION shows nowhere else: @@tx_isolation is the session's, and INNODB_TRX is a
 * cache refreshed at most every 100 ms).
 */
const nextTransaction = (f: SessionFollower) => f.state.transactionCharacteristics;

describe("restore", () => {
  it("reproduces every value the session set on a fresh connection", async () => {
    const { conn: a, follower } = await sessionA();
    const countT = await a.prepare("SELECT COUNT(*) AS n FROM t WHERE v > ?"); // appdb.t: prepared in appdb
    await a.query("INSERT INTO t (v) VALUES (5), (6)");
    await a.query("SET sql_mode = 'PIPES_AS_CONCAT'");
    const concat = await a.prepare("SELECT 'a' || ? AS s"); // concatenation only under PIPES_AS_CONCAT
    await a.query("SET default_master_connection = 'conn\\\\name''s'"); // the value has a backslash and a quote
    await a.query("SET sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES'");
    // prepared last, so the restore's final SET is parsed where NO_BACKSLASH_ESCAPES is on
    const backslash = await a.prepare("SELECT 'x\\y' AS s, ? AS p");
    await a.query("USE otherdb");
    await a.query("SET NAMES latin1 COLLATE latin1_german1_ci");
    await a.query("SET time_zone = '+05:30', lc_time_names = 'de_DE', max_join_size = 123456, div_precision_increment = 7, group_concat_max_len = 4096");
    await a.query("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE");
    await a.query(
      "SET @i = -42, @u = 18446744073709551615, @d = 12.3400, @dz = CAST(5 AS DECIMAL(10,0)), @r = 0.1e0 + 0.2e0, " +
        "@s = _utf8mb4 X'68C3A96C6C6F20E29883' COLLATE utf8mb4_bin, @l = _latin1 'caf' COLLATE latin1_danish_ci, @b = X'00FF2780', " +
        "@n = NULL, @ni = CAST(NULL AS SIGNED), @e = '', @`w``eird` = 'x', @big = -9223372036854775808",
    );
    await a.query("SET autocommit = 0");
    await a.query("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED, READ ONLY");
    expect(follower.pins()).toEqual([]);

    const plan = await planFor(a, follower.state);
    const { conn: b, follower: followerB } = await sessionB();
    const statements = await applyPlan(b, plan);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    expect((await snapshot(a))["@u"]).toMatchObject({ type: "INT UNSIGNED", text: "18446744073709551615" });
    expect((await snapshot(a))["@@default_master_connection"]).toBe("conn\\name's");

    // The pending one-shot characteristics first: with autocommit off, the next statement that reads a
    // table begins the transaction that uses them.
    expect(nextTransaction(followerB)).toBe(nextTransaction(follower));
    expect(nextTransaction(follower)).toMatch(/READ UNCOMMITTED.*READ ONLY/);
    for (const conn of [a, b]) {
      await conn.query("START TRANSACTION");
      await expect(conn.query("INSERT INTO appdb.t (v) VALUES (1)")).rejects.toMatchObject({ errno: 1792 }); // read-only transaction
      await conn.query("ROLLBACK");
    }
    expect(nextTransaction(followerB)).toBe("");

    const ids = [...follower.state.prepared.keys()];
    expect(ids).toHaveLength(3);
    const [countB, concatB, backslashB] = ids.map((id) => statements.get(id)!);
    expect((await backslashB!.execute([1]))[0]).toEqual((await backslash.execute([1]))[0]);
    expect((await backslashB!.execute([1]))[0]).toEqual([{ s: "x\\y", p: 1 }]);
    expect((await countB!.execute([0]))[0]).toEqual((await countT.execute([0]))[0]);
    expect((await countB!.execute([0]))[0]).toEqual([{ n: 2 }]);
    expect((await concatB!.execute(["b"]))[0]).toEqual((await concat.execute(["b"]))[0]);
    expect((await concatB!.execute(["b"]))[0]).toEqual([{ s: "ab" }]);
    await a.end();
    await b.end();
  });

  it("a prepared statement that no longer compiles makes the restore fail with the server's error", async () => {
    const { conn: a, follower } = await sessionA();
    await a.query("CREATE TABLE vanishing (a INT)");
    await a.prepare("SELECT a FROM vanishing WHERE a > ?");
    await a.query("DROP TABLE vanishing");
    const plan = await planFor(a, follower.state);
    const { conn: b } = await sessionB();
    await expect(applyPlan(b, plan)).rejects.toMatchObject({ errno: 1146, message: expect.stringMatching(/vanishing/) });
  });

  it("restores a session whose database was dropped, and refuses to plan when prepared statements need it", async () => {
    const { conn: a, follower } = await sessionA();
    await a.query("CREATE DATABASE gone");
    await a.query("USE gone");
    await a.query("DROP DATABASE gone");
    expect(follower.state.database).toBeNull();
    const { conn: b } = await sessionB();
    await applyPlan(b, await planFor(a, follower.state));
    expect(await snapshot(b)).toEqual(await snapshot(a));
    await a.query("USE appdb");
    await a.prepare("SELECT 1");
    await a.query("CREATE DATABASE gone2");
    await a.query("USE gone2");
    await a.query("DROP DATABASE gone2");
    await expect(planFor(a, follower.state)).rejects.toThrow(/no current database/);
    await a.end();
    await b.end();
  });
});

/** mulberry32: a small seeded generator, so a failing walk can be replayed from its seed. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

/** A client library driven the same way by the walk: mysql2 (EOF framing) or MariaDB Connector/Node (DEPRECATE_EOF). */
interface WalkClient {
  follower: SessionFollower;
  query(sql: string): Promise<unknown>;
  rows: Rows;
  /** Prepares (never from a client-side cache); the server's statement id and a way to run it. */
  prepare(sql: string): Promise<{ id: number; execute(params: unknown[]): Promise<unknown[]> }>;
  close(sql: string, id: number): Promise<void>;
  end(): Promise<void>;
}

async function mysql2Client(): Promise<WalkClient> {
  const { conn, follower } = await sessionA();
  return {
    follower,
    query: (sql) => conn.query(sql),
    rows: rowsOf(conn),
    prepare: async (sql) => {
      const statement = await conn.prepare(sql);
      const id = (statement as unknown as { statement: { id: number } }).statement.id;
      return { id, execute: async (params) => (await statement.execute(params))[0] as unknown[] };
    },
    close: async (sql) => void conn.unprepare(sql), // COM_STMT_CLOSE, and out of mysql2's cache (close() alone leaves it there)
    end: () => conn.end(),
  };
}

async function mariadbClient(): Promise<WalkClient> {
  const conn = await mariadb.createConnection({ host: "127.0.0.1", port: tap.port, user: server.user, password: server.password, database: "appdb", multipleStatements: true, prepareCacheLength: 0 });
  const follower = tap.sessions.at(-1)!.follower!;
  await conn.query(TRACKING_SETUP_SQL);
  const statements = new Map<number, Awaited<ReturnType<typeof conn.prepare>>>();
  return {
    follower,
    query: (sql) => conn.query(sql),
    rows: async (sql) => ((await conn.query({ sql, rowsAsArray: true })) as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v)))),
    prepare: async (sql) => {
      const statement = await conn.prepare(sql);
      statements.set(statement.id, statement);
      return { id: statement.id, execute: async (params) => (await statement.execute(params)) as unknown[] };
    },
    close: async (_sql, id) => statements.get(id)?.close(),
    end: () => conn.end(),
  };
}

/** Rows with every value as text, so that two client libraries' results compare. */
const asText = (rows: unknown[]) => rows.map((row) => Object.fromEntries(Object.entries(row as object).map(([k, v]) => [k, v === null ? null : String(v)])));

const SEED = Number(process.env.SESSION_FUZZ_SEED ?? 20261201);
const SESSIONS = Number(process.env.SESSION_FUZZ_SESSIONS ?? 300);

describe.each([
  { library: "mysql2", connect: mysql2Client, sessions: SESSIONS },
  { library: "MariaDB Connector/Node", connect: mariadbClient, sessions: Math.ceil(SESSIONS / 2) },
])("random sessions ($library)", ({ connect, sessions }) => {
  it(`never parkable while the server holds something, and restored exactly (seed ${SEED}, ${sessions} sessions)`, async () => {
    const rng = random(SEED);
    const zones = ["+00:00", "-05:00", "+09:30", "SYSTEM", "+14:00"];
    const modes = ["", "ANSI_QUOTES", "STRICT_TRANS_TABLES", "PIPES_AS_CONCAT,NO_ZERO_DATE", "ONLY_FULL_GROUP_BY,ANSI_QUOTES", "NO_BACKSLASH_ESCAPES"];
    const names = ["utf8mb4", "latin1", "utf8mb4 COLLATE utf8mb4_bin", "latin1 COLLATE latin1_bin", "utf8mb3", "ascii"];
    const levels = ["READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"];
    const values = ["-7", "18446744073709551615", "3.25", "CAST(0 AS DECIMAL(10,0))", "1e-300", "0.1e0", "NULL", "''", "X'00FF'", "_utf8mb4 X'E29883'", "CAST(NULL AS SIGNED)", "'x''y'"];
    const sqls = ["SELECT COUNT(*) AS n FROM t WHERE v > ?", "SELECT ? AS p, DATABASE() AS d", "SELECT 'a' || ? AS s", "SELECT CONCAT(?, @@time_zone) AS z"];
    let parkableChecks = 0;
    let restored = 0;

    for (let n = 0; n < sessions; n++) {
      const where = `seed ${SEED}, session ${n}`;
      const a = await connect();
      const follower = a.follower;
      const prepared = new Map<number, { sql: string; execute(params: unknown[]): Promise<unknown[]> }>();
      const ops: (() => Promise<unknown>)[] = [
        () => a.query(`SET time_zone = '${rng.pick(zones)}'`),
        () => a.query(`SET sql_mode = '${rng.pick(modes)}'`),
        () => a.query(`SET NAMES ${rng.pick(names)}`),
        () => a.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${rng.pick(levels)}`),
        () => a.query(`SET TRANSACTION ISOLATION LEVEL ${rng.pick(levels)}`),
        () => a.query(`SET max_join_size = ${1000 + rng.int(100000)}, lc_time_names = '${rng.pick(["en_US", "fr_FR", "ja_JP"])}'`),
        () => a.query(`SET ${rng.pick(["time_zone", "sql_mode", "max_join_size", "lc_time_names"])} = DEFAULT`),
        () => a.query(`USE ${rng.pick(["appdb", "otherdb"])}`),
        () => a.query(`SET @v${rng.int(4)} = ${rng.pick(values)}`),
        () => a.query(`SET @m = ${rng.int(100)}; SET time_zone = '${rng.pick(zones)}'; SELECT @m`),
        async () => {
          const sql = rng.pick(sqls);
          const statement = await a.prepare(sql);
          prepared.set(statement.id, { sql, execute: statement.execute });
        },
        async () => {
          const [id, p] = [...prepared.entries()][rng.int(prepared.size)] ?? [];
          if (id === undefined) return;
          prepared.delete(id);
          await a.close(p!.sql, id);
        },
        () => a.query("BEGIN"),
        () => a.query(rng.pick(["COMMIT", "ROLLBACK"])),
        () => a.query("SAVEPOINT sp"),
        () => a.query(`INSERT INTO appdb.t (v) VALUES (${rng.int(1000)})`),
        () => a.query(`SET autocommit = ${rng.int(2)}`),
        () => a.query("SELECT GET_LOCK('fz', 0)"),
        () => a.query("SELECT RELEASE_LOCK('fz')"),
        () => a.query("LOCK TABLES appdb.t READ"),
        () => a.query("UNLOCK TABLES"),
        () => a.query("CREATE TEMPORARY TABLE appdb.ft (a INT)"),
        () => a.query("DROP TEMPORARY TABLE appdb.ft"),
        () => a.query("SELECT no_such_column FROM appdb.t"),
        () => a.query(`INSERT INTO appdb.t (id, v) VALUES (1, 1)`), // duplicate key after the first
      ];

      const steps = 4 + rng.int(16);
      for (let i = 0; i < steps; i++) {
        await rng.pick(ops)().catch(() => undefined);
        if (follower.pins().length > 0) continue;
        // Parkable: the server must hold nothing for this session.
        parkableChecks++;
        const tempTable = await a.query("SELECT 1 FROM appdb.ft LIMIT 0").then(() => true, () => false);
        const tableLocks = await a.query("SELECT 1 FROM appdb.probe LIMIT 0").then(() => false, (e: { errno: number }) => e.errno === 1100);
        const [[inTransaction, userLock]] = await a.rows("SELECT @@in_transaction, IS_USED_LOCK('fz') <=> CONNECTION_ID()");
        expect({ where, step: i, inTransaction, userLock, tempTable, tableLocks }).toEqual({ where, step: i, inTransaction: "0", userLock: "0", tempTable: false, tableLocks: false });
      }

      for (const sql of ["UNLOCK TABLES", "COMMIT", "DO RELEASE_ALL_LOCKS()", "DROP TEMPORARY TABLE IF EXISTS appdb.ft"]) await a.query(sql);
      expect({ where, pins: follower.pins() }).toEqual({ where, pins: [] });
      const plan = await planFor(a.rows, follower.state);
      const { conn: b, follower: followerB } = await sessionB();
      const statements = await applyPlan(b, plan);
      expect({ where, state: await snapshot(b) }).toEqual({ where, state: await snapshot(a.rows) });
      // the session's replies as the follower saw them, shown when the statements differ
      const log = tap.sessions.at(-2)!.replies.map((r) => [r.command.code, r.command.sql ?? r.command.statementId, r.prepared?.statementId, r.error?.message]);
      expect({ where, ids: [...statements.keys()].sort(), log }).toEqual({ where, ids: [...prepared.keys()].sort(), log });
      for (const [id, { sql, execute }] of prepared) {
        const param = sql.includes("v >") ? 500 : "q";
        const rowsA = asText(await execute([param]));
        const [rowsB] = await statements.get(id)!.execute([param]);
        expect({ where, sql, rows: asText(rowsB as unknown[]) }).toEqual({ where, sql, rows: rowsA });
      }
      expect({ where, next: nextTransaction(followerB) }).toEqual({ where, next: nextTransaction(follower) });
      restored++;
      await a.end();
      await b.end();
      opened.length = 0;
    }
    expect(restored).toBe(sessions);
    expect(parkableChecks).toBeGreaterThan(sessions); // the walk was parkable often, not pinned throughout
  });
});
