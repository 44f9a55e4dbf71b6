import { Readable } from "node:stream";
import mariadb from "mariadb";
import mysql, { type Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Command, CursorType, ServerStatus } from "../proxy/protocol/constants";
import { encodeStatementCommand } from "../proxy/protocol/statement-packets";
import type { SessionFollower } from "../proxy/session-state/session-follower";
import { TRACKING_SETUP_SQL } from "../proxy/session-state/tracking-settings";
import { startPlainMariadb, type PlainMariadb } from "./plain-mariadbd";
import { RawClient } from "./raw-mysql-client";
import { normalizeTracked, textRows } from "./session-state-helpers";
import { startTap, type Tap } from "./session-tap";

// The session follower against a real mariadbd and real clients: a TCP tap feeds it every packet between
// the client and the server, and what it concludes (database, variables, transaction, pins) is checked
// against what the server itself answers on the same connection.

let server: PlainMariadb;
let tap: Tap;
let root: Connection;

beforeAll(async () => {
  server = await startPlainMariadb();
  tap = await startTap(server.port);
  root = await mysql.createConnection({ socketPath: server.socketPath, user: "root", multipleStatements: true });
  await root.query(`
    CREATE TABLE appdb.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;
    CREATE TABLE appdb.probe (a INT) ENGINE=MyISAM;
    CREATE PROCEDURE appdb.make_temp() CREATE TEMPORARY TABLE made_by_proc (a INT);
    CREATE PROCEDURE appdb.set_zone() SET time_zone = '+07:00';
    CREATE TABLE appdb.big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGTEXT) ENGINE=InnoDB;
    CREATE PROCEDURE appdb.just_read() SELECT COUNT(*) FROM appdb.t;
  `);
});

afterAll(async () => {
  await root?.end();
  await tap?.close();
  await server?.stop();
});

async function viaTap(): Promise<{ conn: Connection; follower: SessionFollower }> {
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: tap.port, user: server.user, password: server.password, database: "appdb", multipleStatements: true });
  const follower = tap.sessions.at(-1)!.follower!;
  await conn.query(TRACKING_SETUP_SQL);
  return { conn, follower };
}

const pinCodes = (f: SessionFollower) => f.pins().map((p) => p.code);

/** The follower's view equals the server's own answers on that connection. */
async function expectAgreement(conn: Connection, f: SessionFollower) {
  const [[database, inTransaction]] = (await textRows(conn, "SELECT DATABASE(), @@in_transaction")) as [string | null, string][];
  expect(f.state.database).toBe(database);
  expect(f.state.status === null ? "unknown" : (f.state.status & ServerStatus.IN_TRANS) !== 0 ? "1" : "0").toBe(inTransaction);
  for (const [name, value] of f.state.variables) {
    const [[actual]] = await textRows(conn, `SELECT @@session.${name}`);
    expect({ name, value: normalizeTracked(value) }).toEqual({ name, value: normalizeTracked(actual ?? null) });
  }
}

describe("following real sessions", () => {
  it("agrees with the server after each statement (mysql2: EOF-framed result sets)", async () => {
    const { conn, follower } = await viaTap();
    const statements = [
      "SET NAMES latin1",
      "SET time_zone = '+05:30'",
      "USE otherdb",
      "SET sql_mode = 'ANSI_QUOTES,STRICT_TRANS_TABLES'",
      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
      "SET @a = 1; SET max_join_size = 1000; SELECT 1; USE appdb",
      "SET autocommit = 0",
      "INSERT INTO t (v) VALUES (1)",
      "COMMIT",
      "SET autocommit = 1",
      "CALL set_zone()",
      "SET character_set_results = NULL",
      "SET sql_mode = DEFAULT",
    ];
    for (const sql of statements) {
      await conn.query(sql);
      await expectAgreement(conn, follower);
    }
    expect(follower.state.variables.get("time_zone")).toBe("+07:00");
    // The procedure's change was reported, but "state changed" may have meant more than that.
    expect(pinCodes(follower)).toEqual(["untracked"]);
    await conn.end();
  });

  it("follows MariaDB Connector/Node (CLIENT_DEPRECATE_EOF, pipelined prepare + execute, COM_RESET_CONNECTION)", async () => {
    const conn = await mariadb.createConnection({ host: "127.0.0.1", port: tap.port, user: server.user, password: server.password, database: "appdb" });
    const follower = tap.sessions.at(-1)!.follower!;
    try {
      await conn.query(TRACKING_SETUP_SQL);
      await conn.query("SET time_zone = '-03:00'");
      expect(await conn.execute("SELECT ? + 1 AS x", [41])).toMatchObject([{ x: 42n }]);
      expect(await conn.execute("SELECT ? AS y, ? AS z", [1, "b"])).toMatchObject([{ y: 1, z: "b" }]);
      expect([...follower.state.prepared.values()].map((p) => [p.sql, p.params])).toEqual([
        ["SELECT ? + 1 AS x", 1],
        ["SELECT ? AS y, ? AS z", 2],
      ]);
      expect(follower.replies.lost).toBeNull();
      await conn.query("BEGIN");
      expect(pinCodes(follower)).toEqual(["transaction"]);
      await conn.reset();
      // session variables are back to the global defaults, tracking settings included
      expect(pinCodes(follower)).toEqual(["tracking"]);
      await conn.query(TRACKING_SETUP_SQL);
      expect(follower.pins()).toEqual([]);
      expect(follower.state.variables.size).toBe(0);
      expect(follower.state.prepared.size).toBe(0);
      const [row] = await conn.query("SELECT @@time_zone AS tz, @@in_transaction AS t, DATABASE() AS db");
      expect(row).toEqual({ tz: "SYSTEM", t: 0n, db: follower.state.database });
    } finally {
      await conn.end();
    }
  });

  it("keeps up through LOAD DATA LOCAL INFILE", async () => {
    const { conn, follower } = await viaTap();
    await conn.query({
      sql: "LOAD DATA LOCAL INFILE 'numbers.csv' INTO TABLE t (v)",
      infileStreamFactory: () => Readable.from([Buffer.from("7\n8\n9\n")]),
    });
    expect(follower.replies.lost).toBeNull();
    expect(follower.pins()).toEqual([]);
    const [[count]] = await textRows(conn, "SELECT COUNT(*) FROM t WHERE v IN (7, 8, 9)");
    expect(count).toBe("3");
    await conn.end();
  });
});

describe("large packets", () => {
  it("follows payloads of 16 MiB and more both ways; a statement too large to read pins", async () => {
    const { conn, follower } = await viaTap();
    const megabyte = "for you ".repeat(128 * 1024); // 1 MiB of text with a keyword in it
    await conn.query("INSERT INTO big (b) VALUES (?), (?)", [megabyte, megabyte]);
    expect(follower.pins()).toEqual([]);
    await conn.query("SELECT GET_LOCK('big', 0), ? AS b", [megabyte]);
    expect(pinCodes(follower)).toEqual(["user-lock"]); // found in a 1 MiB statement
    await conn.query("DO RELEASE_LOCK('big')");

    const huge = "x".repeat(17 * 1024 * 1024);
    await conn.query("INSERT INTO big (b) VALUES (?)", [huge]); // the client sends it in two packets
    expect(pinCodes(follower)).toEqual(["untracked"]);
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT b FROM big WHERE LENGTH(b) > 16777216"); // a row in two packets
    expect(rows[0]!.b).toHaveLength(huge.length);
    expect(follower.replies.lost).toBeNull();
    expect(follower.replies.inFlight).toBe(0);
    await conn.end();
  });
});

describe("pins", () => {
  const connectionId = async (conn: Connection) => (await textRows(conn, "SELECT CONNECTION_ID()"))[0]![0]!;
  const fails = async (conn: Connection, sql: string) => conn.query(sql).then(() => null, (e: { errno: number }) => e.errno);

  const cases: { name: string; hold: string[]; release: string[]; code: string; held: (conn: Connection) => Promise<boolean> }[] = [
    { name: "open transaction", hold: ["BEGIN"], release: ["COMMIT"], code: "transaction", held: async (c) => (await textRows(c, "SELECT @@in_transaction"))[0]![0] === "1" },
    {
      name: "autocommit off with work done",
      hold: ["SET autocommit = 0", "INSERT INTO t (v) VALUES (2)"],
      release: ["ROLLBACK", "SET autocommit = 1"],
      code: "transaction",
      held: async (c) => (await textRows(c, "SELECT @@in_transaction"))[0]![0] === "1",
    },
    { name: "savepoint", hold: ["BEGIN", "SAVEPOINT s1"], release: ["ROLLBACK"], code: "transaction", held: async (c) => (await fails(c, "RELEASE SAVEPOINT s1")) === null },
    { name: "XA", hold: ["XA START 'x1'"], release: ["XA END 'x1'", "XA ROLLBACK 'x1'"], code: "xa", held: async (c) => (await fails(c, "XA START 'x2'")) !== null },
    { name: "LOCK TABLES", hold: ["LOCK TABLES t READ"], release: ["UNLOCK TABLES"], code: "lock-tables", held: async (c) => (await fails(c, "SELECT 1 FROM probe LIMIT 0")) === 1100 },
    {
      name: "FLUSH TABLES WITH READ LOCK",
      hold: ["FLUSH TABLES WITH READ LOCK"],
      release: ["UNLOCK TABLES"],
      code: "read-lock",
      // Another session's write waits for the global read lock (and gives up after a second).
      held: async () => (await fails(root, "SET STATEMENT lock_wait_timeout = 1 FOR INSERT INTO appdb.probe VALUES (1)")) === 1205,
    },
    {
      name: "GET_LOCK",
      hold: ["SELECT GET_LOCK('job', 0)"],
      release: ["SELECT RELEASE_LOCK('job')"],
      code: "user-lock",
      held: async (c) => (await textRows(root, "SELECT IS_USED_LOCK('job')"))[0]![0] === (await connectionId(c)),
    },
    { name: "temporary table", hold: ["CREATE TEMPORARY TABLE tt (a INT)"], release: ["DROP TEMPORARY TABLE tt"], code: "temporary-table", held: async (c) => (await fails(c, "SELECT 1 FROM tt LIMIT 0")) === null },
    { name: "HANDLER", hold: ["HANDLER t OPEN AS h"], release: ["HANDLER h CLOSE"], code: "handler", held: async (c) => (await fails(c, "HANDLER h READ FIRST")) === null },
    { name: "SQL PREPARE", hold: ["PREPARE s FROM 'SELECT 1'"], release: ["DEALLOCATE PREPARE s"], code: "sql-prepared", held: async (c) => (await fails(c, "EXECUTE s")) === null },
    {
      name: "an error that left a transaction open",
      hold: ["SET autocommit = 0", "INSERT INTO t (id, v) VALUES (1000, 1), (1000, 2)"],
      release: ["ROLLBACK", "SET autocommit = 1"],
      code: "transaction-unknown",
      held: async (c) => (await textRows(c, "SELECT @@in_transaction"))[0]![0] === "1",
    },
  ];

  for (const c of cases) {
    it(`${c.name}: pinned while the server holds it, free once released`, async () => {
      const { conn, follower } = await viaTap();
      for (const sql of c.hold) await conn.query(sql).catch(() => undefined);
      expect(pinCodes(follower)).toContain(c.code);
      expect(await c.held(conn)).toBe(true);
      for (const sql of c.release) await conn.query(sql);
      expect(follower.pins()).toEqual([]);
      expect(await c.held(conn)).toBe(false);
      await conn.end();
    });
  }

  it("a procedure that changed session state pins until COM_RESET_CONNECTION; one that only read does not", async () => {
    const { conn, follower } = await viaTap();
    await conn.query("CALL just_read()");
    expect(follower.pins()).toEqual([]);
    await conn.query("CALL make_temp()");
    expect(follower.pins()).toEqual([{ code: "untracked", reason: "CALL make_temp changed session state the proxy cannot see" }]);
    await conn.reset();
    expect(pinCodes(follower)).toEqual(["tracking"]);
    await conn.query(TRACKING_SETUP_SQL);
    expect(follower.pins()).toEqual([]);
    expect(await fails(conn, "SELECT 1 FROM made_by_proc")).toBe(1146);
    await conn.end();
  });

  it("COM_CHANGE_USER starts the state over as the new user, tracking to be set up again", async () => {
    await root.query("CREATE USER IF NOT EXISTS other@'%' IDENTIFIED BY 'other-password'; GRANT ALL ON otherdb.* TO other@'%'");
    const { conn, follower } = await viaTap();
    await conn.query("SET time_zone = '+01:00'; CREATE TEMPORARY TABLE before_change (a INT)");
    expect(pinCodes(follower)).toEqual(["temporary-table"]);
    await conn.changeUser({ user: "other", password: "other-password", database: "otherdb" });
    expect({ user: follower.state.user, database: follower.state.database, pins: pinCodes(follower) }).toEqual({ user: "other", database: "otherdb", pins: ["tracking"] });
    await conn.query(TRACKING_SETUP_SQL);
    await expectAgreement(conn, follower);
    expect(follower.pins()).toEqual([]);
    expect(follower.replies.lost).toBeNull();
    await conn.end();
  });

  it("a client that turns session tracking off pins its session", async () => {
    const { conn, follower } = await viaTap();
    await conn.query("SET session_track_system_variables = 'time_zone'");
    expect(pinCodes(follower)).toEqual(["untracked"]);
    await conn.end();
  });
});

describe.each([false, true])("binary protocol packets no driver sends (raw client, CLIENT_DEPRECATE_EOF: %s)", (deprecateEof) => {
  it("follows COM_INIT_DB, cursors with COM_STMT_FETCH, long data, COM_STMT_RESET and COM_STMT_CLOSE", async () => {
    await root.query("DELETE FROM appdb.t WHERE v >= 100; INSERT INTO appdb.t (v) VALUES (100), (101), (102)");
    const raw = await RawClient.connect(tap.port, server.user, server.password, "appdb", deprecateEof);
    const follower = tap.sessions.at(-1)!.follower!;
    try {
      raw.send(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(TRACKING_SETUP_SQL)]));
      expect((await raw.read()).payload[0]).toBe(0x00);
      raw.send(Buffer.concat([Buffer.from([Command.INIT_DB]), Buffer.from("otherdb")]));
      await raw.read();
      expect(follower.state.database).toBe("otherdb");
      raw.send(Buffer.from([Command.SET_OPTION, 0, 0])); // multi-statements on: answered with an EOF
      expect((await raw.read()).payload[0]).toBe(0xfe);
      expect(follower.state.multiStatements).toBe(true);
      raw.send(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from("DO 1; DO 2")]));
      expect((await raw.readN(2)).map((p) => p.payload[0])).toEqual([0x00, 0x00]);
      expect(follower.pins()).toEqual([]);

      raw.send(Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from("SELECT id FROM appdb.t WHERE v >= ?")]));
      const [prepareOk] = await raw.readN(deprecateEof ? 3 : 5); // OK, 1 parameter [+ EOF], 1 column [+ EOF]
      const id = prepareOk!.payload.readUInt32LE(1);
      expect(follower.state.prepared.get(id)).toMatchObject({ sql: "SELECT id FROM appdb.t WHERE v >= ?", params: 1, columns: 1, context: { database: "otherdb" } });

      const bigint = Buffer.alloc(8);
      bigint.writeBigInt64LE(100n);
      const params = Buffer.concat([Buffer.from([CursorType.READ_ONLY, 1, 0, 0, 0, 0, 1, 0x08, 0x00]), bigint]);
      raw.send(encodeStatementCommand(Command.STMT_EXECUTE, id, params));
      const opened = await raw.readUntilEnd(); // column count, column, EOF (or OK) with SERVER_STATUS_CURSOR_EXISTS
      expect(opened).toHaveLength(3);
      // status at offset 3 in both: EOF (0xFE, warnings, status) and OK (0xFE, 0 rows, 0 id, status)
      expect(opened[2]!.payload.readUInt16LE(3) & ServerStatus.CURSOR_EXISTS).toBeTruthy();
      expect(follower.replies.inFlight).toBe(0);
      expect(pinCodes(follower)).toEqual(["cursor"]);

      raw.send(encodeStatementCommand(Command.STMT_FETCH, id, Buffer.from([1, 0, 0, 0])));
      expect(await raw.readUntilEnd()).toHaveLength(2); // one row, EOF
      expect(pinCodes(follower)).toEqual(["cursor"]);
      raw.send(encodeStatementCommand(Command.STMT_FETCH, id, Buffer.from([100, 0, 0, 0])));
      expect(await raw.readUntilEnd()).toHaveLength(3); // two rows, EOF with LAST_ROW_SENT
      expect(follower.pins()).toEqual([]);

      raw.send(encodeStatementCommand(Command.STMT_SEND_LONG_DATA, id, Buffer.concat([Buffer.from([0, 0]), Buffer.from("12")])));
      raw.send(Buffer.from([Command.PING])); // no reply to long data: the ping's reply says it went through
      expect((await raw.read()).payload[0]).toBe(0x00);
      expect(pinCodes(follower)).toEqual(["long-data"]);
      raw.send(encodeStatementCommand(Command.STMT_RESET, id));
      expect((await raw.read()).payload[0]).toBe(0x00);
      expect(follower.pins()).toEqual([]);

      raw.send(encodeStatementCommand(Command.STMT_CLOSE, id));
      raw.send(Buffer.from([Command.PING]));
      expect((await raw.read()).payload[0]).toBe(0x00);
      expect(follower.state.prepared.size).toBe(0);
      expect(follower.replies.lost).toBeNull();
    } finally {
      raw.close();
    }
  });
});
