import { describe, expect, it } from "vitest";
import { encodeChangeUser } from "../protocol/change-user";
import { Capability, Command, ServerStatus } from "../protocol/constants";
import type { OkPacket } from "../protocol/ok-packet";
import type { SessionStateChange } from "../protocol/session-track";
import { pinsOf } from "./pins";
import { ReplyFollower, type Reply } from "./reply-follower";
import { SessionState } from "./session-state";

// The state model and pins, fed hand-built replies (the integration tests feed real ones).

const CAPS = Capability.PROTOCOL_41 | Capability.SESSION_TRACK | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH;
const AC: number = ServerStatus.AUTOCOMMIT;

const ok = (status: number, sessionState: SessionStateChange[] = []): OkPacket => ({ affectedRows: 0n, lastInsertId: 0n, status, warnings: 0, info: "", sessionState });

function reply(code: number, extra: Partial<Reply> & { sql?: string; statementId?: number; payload?: Buffer } = {}): Reply {
  const { sql, statementId, payload, ...rest } = extra;
  return {
    command: { code, sql, statementId, payload },
    results: [],
    error: null,
    prepared: null,
    cursorOpened: false,
    status: null,
    localInfile: false,
    ...rest,
  };
}

const query = (sql: string, status = AC, sessionState: SessionStateChange[] = []) =>
  reply(Command.QUERY, { sql, results: [{ kind: "ok", ok: ok(status, sessionState) }], status });
const failed = (sql: string) => reply(Command.QUERY, { sql, error: { code: 1064, sqlState: "42000", message: "error" } });

function fresh(trackingByDefault = true) {
  const state = new SessionState(CAPS, { user: "app", database: "shop", status: AC, trackingByDefault });
  const follower = new ReplyFollower({ capabilities: CAPS, onReply: () => undefined });
  const pins = () => pinsOf(follower, state).map((p) => p.reason);
  return { state, pins };
}

describe("SessionState", () => {
  it("takes variables, database and transaction characteristics from session tracking", () => {
    const { state, pins } = fresh();
    state.applyReply(
      query("SET SESSION session_track_system_variables = '*', ...", AC, [
        { type: "system-variable", name: "session_track_system_variables", value: "*" },
        { type: "system-variable", name: "session_track_state_change", value: "ON" },
      ]),
    );
    state.applyReply(query("SET time_zone = '+01:00'; USE other", AC, [{ type: "system-variable", name: "Time_Zone", value: "+01:00" }, { type: "schema", name: "other" }]));
    state.applyReply(query("SET TRANSACTION READ ONLY", AC, [{ type: "transaction-characteristics", sql: "SET TRANSACTION READ ONLY;" }]));
    expect(Object.fromEntries(state.variables)).toEqual({ time_zone: "+01:00" });
    expect(state.database).toBe("other");
    expect(state.transactionCharacteristics).toBe("SET TRANSACTION READ ONLY;");
    expect(pins()).toEqual([]);
  });

  it("is pinned while an access mode set inside a transaction has not reached its transactions (until COMMIT or ROLLBACK)", () => {
    // MariaDB 10.11: SET SESSION TRANSACTION READ ONLY inside a transaction, then SET autocommit = 1: @@tx_read_only
    // says 1, yet the next BEGIN's transaction may write; only after COMMIT or ROLLBACK is the mode the variable's.
    // A restore sets the variable, and so the mode (FUZZ_SEED=900300594 session 114, waves of 100).
    const { state, pins } = fresh();
    const inTrans = ServerStatus.IN_TRANS;
    const reason = "the transaction access mode was set inside a transaction (it applies after COMMIT or ROLLBACK)";
    state.applyReply(query("SET autocommit = 0", 0, [{ type: "system-variable", name: "autocommit", value: "OFF" }]));
    state.applyReply(query("SET SESSION TRANSACTION READ ONLY", inTrans, [{ type: "system-variable", name: "tx_read_only", value: "ON" }]));
    state.applyReply(query("SET autocommit = 1", AC, [{ type: "system-variable", name: "autocommit", value: "ON" }]));
    expect(pins()).toEqual([reason]);
    state.applyReply(query("ROLLBACK TO SAVEPOINT a", AC));
    state.applyReply(query("BEGIN", AC | inTrans));
    state.applyReply(query("COMMIT", AC));
    expect(pins()).toEqual([]);
    // Set outside a transaction, the mode is the variable's at once.
    state.applyReply(query("SET SESSION TRANSACTION READ WRITE", AC, [{ type: "system-variable", name: "tx_read_only", value: "OFF" }]));
    expect(pins()).toEqual([]);
  });

  it("is pinned until tracking is set up, and again after COM_RESET_CONNECTION", () => {
    const { state, pins } = fresh(false);
    expect(pins()).toEqual(["session tracking is not set up on this connection"]);
    const setup = () =>
      query("SET SESSION session_track_...", AC, [
        { type: "system-variable", name: "session_track_schema", value: "ON" },
        { type: "system-variable", name: "session_track_system_variables", value: "*" },
        { type: "system-variable", name: "session_track_transaction_info", value: "CHARACTERISTICS" },
        { type: "system-variable", name: "session_track_state_change", value: "ON" },
      ]);
    state.applyReply(setup());
    expect(pins()).toEqual([]);
    state.applyReply(reply(Command.RESET_CONNECTION, { status: AC }));
    expect(pins()).toEqual(["session tracking is not set up on this connection"]);
    state.applyReply(setup());
    expect(pins()).toEqual([]);
  });

  it("with the compute's defaults tracking: a SET whose OK reports no variable pins it for good, and casts doubt on the defaults", () => {
    let doubts = 0;
    const state = new SessionState(CAPS, { user: "app", database: "shop", status: AC, trackingByDefault: true, trackingDoubt: () => doubts++ });
    const pins = () => pinsOf(new ReplyFollower({ capabilities: CAPS, onReply: () => undefined }), state).map((p) => p.reason);
    state.applyReply(query("SET time_zone = '+01:00'", AC, [{ type: "system-variable", name: "time_zone", value: "+01:00" }, { type: "state-change", changed: true }]));
    state.applyReply(query("SET @a = 1", AC, [{ type: "state-change", changed: true }]));
    state.applyReply(failed("SET time_zone = 'nowhere'"));
    expect({ pins: pins(), doubts }).toEqual({ pins: [], doubts: 0 });
    // A server whose tracking defaults were changed reports nothing for the next SET.
    state.applyReply(query("SET sql_mode = ''"));
    expect({ pins: pins(), doubts }).toEqual({ pins: ["session tracking is not set up on this connection"], doubts: 1 });
    // A reset goes back to the server's defaults, which do not track: still pinned.
    state.applyReply(reply(Command.RESET_CONNECTION, { status: AC }));
    expect(pins()).toEqual(["session tracking is not set up on this connection"]);
  });

  it("casts doubt on the compute's tracking defaults when a client changes them globally", () => {
    let doubts = 0;
    const state = new SessionState(CAPS, { user: "app", database: "shop", status: AC, trackingByDefault: true, trackingDoubt: () => doubts++ });
    state.applyReply(failed("SET GLOBAL session_track_state_change = OFF"));
    expect(doubts).toBe(0);
    state.applyReply(query("SET GLOBAL session_track_state_change = OFF"));
    expect(doubts).toBe(1);
    expect(state.trackingReady).toBe(true); // this session keeps what it logged in with
  });

  it("pins when the client turns tracking off, or the server sends an entry it does not know", () => {
    const a = fresh();
    a.state.applyReply(query("SET session_track_schema = OFF", AC, [{ type: "system-variable", name: "session_track_schema", value: "OFF" }]));
    expect(a.pins()).toEqual(["the client changed session_track_schema, so its session can no longer be followed"]);
    const b = fresh();
    b.state.applyReply(query("SET session_track_system_variables = 'time_zone'")); // its own change is no longer reported
    expect(b.pins()).toEqual(["the client changed session_track_system_variables, so its session can no longer be followed"]);
    const c = fresh();
    c.state.applyReply(query("DO 1", AC, [{ type: "unknown", code: 42, data: Buffer.alloc(1) }]));
    expect(c.pins()).toEqual(["session-state entry of type 42"]);
  });

  it("reads transactions from the status flags", () => {
    const { state, pins } = fresh();
    state.applyReply(query("BEGIN", AC | ServerStatus.IN_TRANS));
    expect(pins()).toEqual(["open transaction"]);
    state.applyReply(query("START TRANSACTION READ ONLY", AC | ServerStatus.IN_TRANS_READONLY));
    expect(pins()).toEqual(["open transaction"]);
    state.applyReply(query("COMMIT"));
    expect(pins()).toEqual([]);
  });

  it("after an error, knows the transaction state only in autocommit mode without a transaction and a routine", () => {
    const a = fresh();
    a.state.applyReply(failed("INSERT INTO t VALUES (1)"));
    expect(a.pins()).toEqual([]);
    a.state.applyReply(failed("CALL p()"));
    expect(a.pins()).toEqual(["transaction state unknown"]);
    a.state.applyReply(query("SELECT 1"));
    expect(a.pins()).toEqual([]);
    const b = fresh();
    b.state.applyReply(query("SET autocommit = 0", 0, [{ type: "system-variable", name: "autocommit", value: "OFF" }]));
    b.state.applyReply(failed("INSERT INTO t VALUES (1)"));
    expect(b.pins()).toEqual(["transaction state unknown"]);
  });

  it("counts GET_LOCK by name, and keeps every lock when a name is not a literal", () => {
    const { state, pins } = fresh();
    state.applyReply(query("SELECT GET_LOCK('a', 1), GET_LOCK('a', 1)"));
    state.applyReply(query("SELECT RELEASE_LOCK('a')"));
    expect(pins()).toEqual(["GET_LOCK() lock (a)"]);
    state.applyReply(query("SELECT RELEASE_LOCK('b')"));
    state.applyReply(query("SELECT RELEASE_LOCK('A')"));
    expect(pins()).toEqual([]);
    state.applyReply(query("SELECT GET_LOCK(@name, 1)"));
    state.applyReply(query("SELECT RELEASE_LOCK(@name)"));
    expect(pins()).toEqual(["GET_LOCK() lock"]);
    state.applyReply(query("DO RELEASE_ALL_LOCKS()"));
    expect(pins()).toEqual([]);
    // a lock can be taken by a statement that then fails
    state.applyReply(failed("SELECT GET_LOCK('c', 0), nope"));
    expect(pins()).toEqual(["GET_LOCK() lock (c)"]);
  });

  it("follows temporary tables by qualified name; a failed single statement adds nothing, a failed batch may have", () => {
    const { state, pins } = fresh();
    state.applyReply(query("CREATE TEMPORARY TABLE tmp (a INT)"));
    state.applyReply(query("DROP TABLE other.tmp"));
    expect(pins()).toEqual(["temporary table (shop.tmp)"]);
    state.applyReply(query("DROP TEMPORARY TABLE shop.tmp"));
    expect(pins()).toEqual([]);
    state.applyReply(failed("LOCK TABLES t READ"));
    expect(pins()).toEqual([]);
    state.applyReply(failed("DO 1; LOCK TABLES t READ"));
    expect(pins()).toEqual(["LOCK TABLES"]);
    state.applyReply(failed("UNLOCK TABLES; DO nope"));
    expect(pins()).toEqual(["LOCK TABLES"]);
    state.applyReply(query("UNLOCK TABLES"));
    expect(pins()).toEqual([]);
  });

  it("records the collation SET NAMES ... COLLATE gave character_set_client until something else sets that variable", () => {
    const { state } = fresh();
    const names = (sql: string) =>
      query(sql, AC, [
        { type: "system-variable", name: "character_set_client", value: "utf8mb4" },
        { type: "system-variable", name: "character_set_connection", value: "utf8mb4" },
        { type: "system-variable", name: "character_set_results", value: "utf8mb4" },
      ]);
    state.applyReply(names("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"));
    expect(state.clientCollation).toEqual({ charset: "utf8mb4", collation: "utf8mb4_unicode_ci" });
    state.applyReply(query("SET time_zone = '+01:00'", AC, [{ type: "system-variable", name: "time_zone", value: "+01:00" }]));
    expect(state.clientCollation).toEqual({ charset: "utf8mb4", collation: "utf8mb4_unicode_ci" });
    state.applyReply(query("SET character_set_client = 'utf8mb4'", AC, [{ type: "system-variable", name: "character_set_client", value: "utf8mb4" }]));
    expect(state.clientCollation).toBeNull();
    state.applyReply(names("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"));
    state.applyReply(names("SET NAMES utf8mb4"));
    expect(state.clientCollation).toBeNull();
    state.applyReply(names("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"));
    state.applyReply(reply(Command.RESET_CONNECTION, { status: AC }));
    expect(state.clientCollation).toBeNull();
  });

  it("pins while a pending SET TRANSACTION may have been used up by a result set that carried no session state", () => {
    const { state, pins } = fresh();
    const rows = (status: number) => reply(Command.QUERY, { sql: "SELECT COUNT(*) FROM t", results: [{ kind: "rows", columns: 1, rows: 1, status, ok: null }], status });
    state.applyReply(rows(AC));
    expect(pins()).toEqual([]);
    state.applyReply(query("SET TRANSACTION READ ONLY", AC, [{ type: "transaction-characteristics", sql: "SET TRANSACTION READ ONLY;" }]));
    state.applyReply(rows(AC));
    expect(pins()).toEqual(["a SET TRANSACTION for the next transaction may have been used up unseen"]);
    state.applyReply(query("SET TRANSACTION READ WRITE", AC, [{ type: "transaction-characteristics", sql: "SET TRANSACTION READ WRITE;" }]));
    expect(pins()).toEqual([]);
  });

  it("pins a variable no SET restores until it is set back to DEFAULT", () => {
    const { state, pins } = fresh();
    state.applyReply(query("SET timestamp = 1", AC, [{ type: "system-variable", name: "timestamp", value: "1.000000" }]));
    expect(pins()).toEqual(["SET timestamp (a fixed clock)"]);
    state.applyReply(query("SET timestamp = DEFAULT", AC, [{ type: "system-variable", name: "timestamp", value: "1796168974.099501" }]));
    expect(pins()).toEqual([]);
  });

  it("records prepared statements with their parse context and forgets them on close and reset", () => {
    const { state } = fresh();
    state.applyReply(query("SET sql_mode = 'ANSI_QUOTES'", AC, [{ type: "system-variable", name: "sql_mode", value: "ANSI_QUOTES" }]));
    state.applyReply(reply(Command.STMT_PREPARE, { sql: 'SELECT "a" FROM t WHERE id = ?', prepared: { statementId: 7, params: 1, columns: 1, warnings: 0 } }));
    expect(state.prepared.get(7)).toEqual({
      clientId: 7,
      sql: 'SELECT "a" FROM t WHERE id = ?',
      params: 1,
      columns: 1,
      context: { database: "shop", variables: { sql_mode: "ANSI_QUOTES" } },
    });
    state.applyReply(reply(Command.STMT_CLOSE, { statementId: 7 }));
    expect(state.prepared.size).toBe(0);
  });

  it("starts over on COM_CHANGE_USER with the new user and database", () => {
    const { state, pins } = fresh();
    state.applyReply(query("CREATE TEMPORARY TABLE x (a INT)"));
    const payload = encodeChangeUser({ user: "bob", authResponse: Buffer.alloc(20), database: "bobdb", collation: 45, authPlugin: "mysql_native_password", connectAttributes: null }, CAPS);
    state.applyReply(reply(Command.CHANGE_USER, { payload, results: [{ kind: "ok", ok: ok(AC) }], status: AC }));
    expect({ user: state.user, database: state.database, pins: pins() }).toEqual({ user: "bob", database: "bobdb", pins: [] });
  });
});
