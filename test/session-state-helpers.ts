import type { Connection, PreparedStatementInfo, RowDataPacket } from "mysql2/promise";
import { CAPTURE_SQL, readCapture, readValues, valuesSql, type ParkCapture, type TextRow } from "../proxy/session-state/park-capture";
import { restorePlan, type RestorePlan } from "../proxy/session-state/restore-plan";
import type { SessionState } from "../proxy/session-state/session-state";

// What the session tests ask the server, and how they park (capture + plan) and restore with mysql2.

/** A query's rows as text, the way the proxy's own text-protocol reader will see them. */
export async function textRows(conn: Connection, sql: string): Promise<TextRow[]> {
  const [rows] = await conn.query<RowDataPacket[][]>({
    sql,
    rowsAsArray: true,
    typeCast: (field, next) => (field.type === "BLOB" || field.type === "VAR_STRING" || field.type === "STRING" ? next() : field.string()),
  });
  return rows.map((row) => row.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString("utf8") : String(v))));
}

/** Runs a query on a session's connection and gives its rows as text (whatever the client library). */
export type Rows = (sql: string) => Promise<TextRow[]>;

export const rowsOf =
  (conn: Connection): Rows =>
  (sql) =>
    textRows(conn, sql);

/** What parking reads, on the session's own connection. */
export async function capture(rows: Rows): Promise<ParkCapture> {
  const first = readCapture(await rows(CAPTURE_SQL));
  const userVariables = first.variables.length === 0 ? [] : readValues(first.variables, (await rows(valuesSql(first.variables)))[0]!);
  return { userVariables, lastInsertId: first.lastInsertId, inTransaction: first.inTransaction, collationConnection: first.collationConnection };
}

export async function planFor(session: Connection | Rows, state: SessionState): Promise<RestorePlan> {
  return restorePlan(state, await capture(typeof session === "function" ? session : rowsOf(session)));
}

/** mysql2's promise wrapper keeps the protocol-level statement (its server id) inside. */
const inner = (s: PreparedStatementInfo) => (s as unknown as { statement: { id: number; parameters: unknown[] } }).statement;

/** Run a plan on a fresh connection; the client's statement ids mapped to the re-prepared statements. */
export async function applyPlan(conn: Connection, plan: RestorePlan): Promise<Map<number, PreparedStatementInfo>> {
  const statements = new Map<number, PreparedStatementInfo>();
  for (const step of plan.steps) {
    if (step.kind === "query") await conn.query(step.sql);
    else if (step.kind === "set-option") throw new Error("mysql2 cannot send COM_SET_OPTION (and never does)");
    else {
      const statement = await conn.prepare(step.sql);
      const params = inner(statement).parameters.length;
      if (params !== step.params) throw new Error(`statement ${step.clientId} now has ${params} parameters`);
      statements.set(step.clientId, statement);
    }
  }
  return statements;
}

/** Everything a restored session must agree on, as the server reports it. */
export const SNAPSHOT_SQL = `SELECT DATABASE(), @@character_set_client, @@character_set_connection, @@character_set_results,
  @@collation_connection, @@time_zone, @@sql_mode, @@tx_isolation, @@tx_read_only, @@autocommit, LAST_INSERT_ID(),
  @@max_join_size, @@div_precision_increment, @@lc_time_names, @@group_concat_max_len, @@default_master_connection`;

export async function snapshot(session: Connection | Rows): Promise<Record<string, unknown>> {
  const rows = typeof session === "function" ? session : rowsOf(session);
  const [values] = await rows(SNAPSHOT_SQL);
  const names = SNAPSHOT_SQL.replace(/\s+/g, " ").replace(/^SELECT /, "").split(", ");
  const result: Record<string, unknown> = Object.fromEntries(names.map((n, i) => [n, values![i]]));
  const vars = await rows("SELECT VARIABLE_NAME, VARIABLE_TYPE FROM information_schema.USER_VARIABLES ORDER BY VARIABLE_NAME");
  for (const [name, type] of vars) {
    const v = "@`" + name!.replace(/`/g, "``") + "`";
    const [detail] = await rows(`SELECT HEX(${v}), CAST(${v} AS CHAR), COLLATION(${v}), ${v} IS NULL`);
    result[`@${name}`] = { type, hex: detail![0], text: type === "VARCHAR" ? null : detail![1], collation: detail![2], isNull: detail![3] };
  }
  return result;
}

/** The tracked value as the server shows it through SELECT @@name. */
export function normalizeTracked(value: string | null): string {
  if (value === null) return "";
  return value === "ON" ? "1" : value === "OFF" ? "0" : value;
}
