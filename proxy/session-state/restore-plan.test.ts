import { describe, expect, it } from "vitest";
import { Capability, ServerStatus } from "../protocol/constants";
import { readCapture, userVariableExpression, valuesSql, type ParkCapture } from "./park-capture";
import { needsNoDatabase, restorePlan, RestoreImpossibleError, variableLiteral } from "./restore-plan";
import { SessionState } from "./session-state";
import { TRACKING_SETUP_SQL } from "./tracking-settings";

const CAPS = Capability.PROTOCOL_41 | Capability.SESSION_TRACK;
const capture = (extra: Partial<ParkCapture> = {}): ParkCapture => ({ userVariables: [], lastInsertId: "0", inTransaction: false, collationConnection: "utf8mb4_general_ci", ...extra });

describe("restorePlan", () => {
  it("orders the steps: tracking, prepares under their context, database, variables, user variables, characteristics, LAST_INSERT_ID", () => {
    const state = new SessionState(CAPS, { user: "app", database: "shop", status: ServerStatus.AUTOCOMMIT });
    state.prepared.set(3, { clientId: 3, sql: "SELECT 'a' || ?", params: 1, columns: 1, context: { database: "shop", variables: { sql_mode: "PIPES_AS_CONCAT" } } });
    state.prepared.set(1, { clientId: 1, sql: "SELECT 1", params: 0, columns: 1, context: { database: null, variables: {} } });
    state.database = "other";
    state.variables.set("sql_mode", "ANSI_QUOTES");
    state.variables.set("collation_connection", "latin1_bin");
    state.variables.set("character_set_connection", "latin1");
    state.variables.set("max_join_size", "1000");
    state.variables.set("time_zone", "it's\\");
    state.transactionCharacteristics = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SET TRANSACTION READ ONLY;";
    const plan = restorePlan(state, capture({ lastInsertId: "42", collationConnection: "latin1_bin", userVariables: [{ name: "n", type: "INT", value: "-1", collation: null }] }));
    expect(plan.user).toBe("app");
    expect(plan.steps).toEqual([
      { kind: "query", sql: TRACKING_SETUP_SQL },
      { kind: "prepare", clientId: 1, sql: "SELECT 1", params: 0 },
      { kind: "query", sql: "USE `shop`" },
      { kind: "query", sql: "SET SESSION `sql_mode` = 'PIPES_AS_CONCAT'" },
      { kind: "prepare", clientId: 3, sql: "SELECT 'a' || ?", params: 1 },
      { kind: "query", sql: "USE `other`" },
      {
        kind: "query",
        sql: "SET SESSION `max_join_size` = 1000, `time_zone` = CONCAT('it''s', CHAR(92 USING utf8mb4), ''), `character_set_connection` = 'latin1', `collation_connection` = 'latin1_bin', `sql_mode` = 'ANSI_QUOTES'",
      },
      { kind: "query", sql: "SET @`n` = CAST(-1 AS SIGNED)" },
      { kind: "query", sql: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED" },
      { kind: "query", sql: "SET TRANSACTION READ ONLY" },
      { kind: "query", sql: "DO LAST_INSERT_ID(42)" },
    ]);
  });

  it("needs a connection without a database for a session that has none, or a statement prepared without one", () => {
    // A connection taken over keeps its current database through COM_RESET_CONNECTION, and no USE undoes
    // it: DATABASE() in a statement prepared without one would say the connection's database instead of NULL
    // (FUZZ_SEED=12345 session 566 at waves of 100, after `USE information_schema`).
    const state = new SessionState(CAPS, { user: "app", database: null });
    expect(needsNoDatabase(state)).toBe(true);
    state.prepared.set(1, { clientId: 1, sql: "SELECT DATABASE()", params: 0, columns: 1, context: { database: null, variables: {} } });
    state.database = "information_schema";
    expect(needsNoDatabase(state)).toBe(true);
    state.prepared.set(1, { clientId: 1, sql: "SELECT DATABASE()", params: 0, columns: 1, context: { database: "main", variables: {} } });
    expect(needsNoDatabase(state)).toBe(false);
  });

  it("puts a parse-context variable a prepare group changed back to its default when the session did not set it", () => {
    const state = new SessionState(CAPS, { user: "app", database: "shop" });
    state.prepared.set(1, { clientId: 1, sql: "SELECT 1", params: 0, columns: 1, context: { database: "shop", variables: { sql_mode: "ANSI" } } });
    const steps = restorePlan(state, capture()).steps.map((s) => ("sql" in s ? s.sql : ""));
    expect(steps).toContain("SET SESSION `collation_connection` = 'utf8mb4_general_ci', `sql_mode` = DEFAULT");
  });

  it("gives character_set_client the collation SET NAMES ... COLLATE gave it, and then leaves that variable out of the SET", () => {
    const state = new SessionState(CAPS, { user: "app", database: null });
    state.prepared.set(1, { clientId: 1, sql: "SELECT ?", params: 1, columns: 1, context: { database: null, variables: { character_set_client: "latin1" } } });
    state.variables.set("character_set_client", "utf8mb4");
    state.variables.set("character_set_connection", "utf8mb4");
    state.clientCollation = { charset: "utf8mb4", collation: "utf8mb4_unicode_ci" };
    const steps = restorePlan(state, capture({ collationConnection: "utf8mb4_unicode_ci" })).steps.map((s) => ("sql" in s ? s.sql : ""));
    expect(steps.slice(3)).toEqual(["SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", "SET SESSION `character_set_connection` = 'utf8mb4', `collation_connection` = 'utf8mb4_unicode_ci'"]);
    state.clientCollation = { charset: "utf8mb4", collation: "x; DROP" };
    expect(() => restorePlan(state, capture())).toThrow(RestoreImpossibleError);
  });

  it("sets multi-statements as the session's COM_SET_OPTION last did", () => {
    const state = new SessionState(CAPS, { user: "app", database: null });
    expect(restorePlan(state, capture()).steps.some((s) => s.kind === "set-option")).toBe(false);
    state.multiStatements = true;
    expect(restorePlan(state, capture()).steps.slice(0, 2)).toEqual([
      { kind: "query", sql: TRACKING_SETUP_SQL },
      { kind: "set-option", option: 0 },
    ]);
  });

  it("refuses a session without a database whose prepared statements needed one", () => {
    const state = new SessionState(CAPS, { user: "app", database: null });
    state.prepared.set(1, { clientId: 1, sql: "SELECT * FROM t", params: 0, columns: 1, context: { database: "gone", variables: {} } });
    expect(() => restorePlan(state, capture())).toThrow(RestoreImpossibleError);
  });

  it("writes tracked values back as SET reads them", () => {
    expect(variableLiteral("max_join_size", "18446744073709551615")).toBe("18446744073709551615");
    expect(variableLiteral("long_query_time", "10.000000")).toBe("10.000000");
    expect(variableLiteral("autocommit", "OFF")).toBe("'OFF'");
    expect(variableLiteral("character_set_results", "")).toBe("NULL");
    expect(variableLiteral("sql_mode", "")).toBe("''");
    expect(variableLiteral("lc_messages", "a\\b'c")).toBe("CONCAT('a', CHAR(92 USING utf8mb4), 'b''c')");
  });
});

describe("park capture", () => {
  it("reads the capture rows and asks for each variable's value", () => {
    const rows = [
      ["a", "INT", "7", "0", "utf8mb4_general_ci"],
      ["b`c", "VARCHAR", "7", "0", "utf8mb4_general_ci"],
    ];
    const read = readCapture(rows);
    expect(read).toEqual({
      variables: [
        { name: "a", type: "INT" },
        { name: "b`c", type: "VARCHAR" },
      ],
      lastInsertId: "7",
      inTransaction: false,
      collationConnection: "utf8mb4_general_ci",
    });
    expect(valuesSql(read.variables)).toBe("SELECT @`a` IS NULL, CAST(@`a` AS CHAR), COLLATION(@`a`), @`b``c` IS NULL, HEX(@`b``c`), COLLATION(@`b``c`)");
    expect(readCapture([[null, null, "0", "1", "latin1_bin"]])).toMatchObject({ variables: [], inTransaction: true });
    expect(() => readCapture([["x", "ROW", "0", "0", "x"]])).toThrow(/type ROW/);
  });

  it("gives each user variable back its value and type", () => {
    const e = (type: "INT" | "INT UNSIGNED" | "DECIMAL" | "DOUBLE" | "VARCHAR", value: string | null, collation: string | null = null) =>
      userVariableExpression({ name: "v", type, value, collation });
    expect(e("INT", "-9223372036854775808")).toBe("CAST(-9223372036854775808 AS SIGNED)");
    expect(e("INT UNSIGNED", "18446744073709551615")).toBe("CAST(18446744073709551615 AS UNSIGNED)");
    expect(e("DECIMAL", "-12.3400")).toBe("CAST(-12.3400 AS DECIMAL(6,4))");
    expect(e("DOUBLE", "0.30000000000000004")).toBe("0.30000000000000004e0");
    expect(e("DOUBLE", "3.3333333333333335e299")).toBe("3.3333333333333335e299");
    expect(e("VARCHAR", "00FF", "binary")).toBe("_binary X'00FF'");
    expect(e("VARCHAR", "C3A9", "utf8mb4_bin")).toBe("_utf8mb4 X'C3A9' COLLATE utf8mb4_bin");
    expect(e("VARCHAR", null, "binary")).toBe("NULL");
    expect(e("VARCHAR", null, "latin1_swedish_ci")).toBe("CAST(NULL AS CHAR CHARACTER SET latin1) COLLATE latin1_swedish_ci");
    expect(e("INT", null)).toBe("CAST(NULL AS SIGNED)");
    expect(() => e("INT", "1; DROP TABLE t")).toThrow(/integer value/);
    expect(() => e("VARCHAR", "00", "x'; --")).toThrow(/collation/);
  });
});
