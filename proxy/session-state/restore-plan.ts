import { quoteIdentifier, userVariableAssignment, type ParkCapture } from "./park-capture";
import { PARSE_CONTEXT_VARIABLES, type PrepareContext, type PreparedStatement, type SessionState } from "./session-state";
import { TRACKING_SETUP_SQL } from "./tracking-settings";

// The steps that bring a fresh connection, logged in as the session's role (without a database), to the
// state the session had when it parked:
//
//   1. the tracking settings (so the restored session is followed like the first one), and multi-statements
//      as COM_SET_OPTION last set them;
//   2. prepared statements, grouped by the database and parse-relevant variables they were prepared
//      under (sql_mode, character_set_client, collation_connection: they change what SQL text means),
//      each group's context set before it is prepared; the client keeps its ids, the proxy maps them;
//   3. the current database (USE), SET NAMES ... COLLATE when that set character_set_client's collation,
//      and every system variable the session changed (and the collation read at parking), in one SET: the
//      character-set variables before their collations, sql_mode last;
//   4. user variables, by value and type (hex literals with their collation for strings, CASTs for
//      NULLs and for integers and decimals whose literal would read as another type);
//   5. the next transaction's characteristics (a pending one-shot SET TRANSACTION);
//   6. LAST_INSERT_ID(), last because nothing after it may change it.
//
// A session whose plan cannot be made (see RestoreImpossibleError) must stay pinned.

export type RestoreStep =
  | { kind: "query"; sql: string }
  /** COM_STMT_PREPARE; the new statement id maps to clientId, and must have `params` parameters. */
  | { kind: "prepare"; clientId: number; sql: string; params: number }
  /** COM_SET_OPTION: multi-statements on (0) or off (1), as the session last set them. */
  | { kind: "set-option"; option: 0 | 1 };

export interface RestorePlan {
  /** Log in as this role, without a database. */
  user: string;
  steps: RestoreStep[];
}

export class RestoreImpossibleError extends Error {}

/** Assignments that must come after others: a collation after its character set, sql_mode last. */
const ORDER: Record<string, number> = {
  character_set_client: 1,
  character_set_results: 1,
  character_set_connection: 1,
  character_set_database: 1,
  character_set_server: 1,
  collation_connection: 2,
  collation_database: 2,
  collation_server: 2,
  sql_mode: 3,
};

/**
 * A value as the tracker reported it, written back the way SET reads it. Strings are quoted so that they
 * read the same under any sql_mode (a statement is parsed under the mode before it runs, which the plan's
 * own steps change): quotes are doubled, and a backslash, whose meaning NO_BACKSLASH_ESCAPES changes, is
 * spelled CHAR(92).
 */
export function variableLiteral(name: string, value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  if (name === "character_set_results" && (value === "" || value.toUpperCase() === "NULL")) return "NULL";
  const parts = value.split("\\").map((part) => `'${part.replace(/'/g, "''")}'`);
  return parts.length === 1 ? parts[0]! : `CONCAT(${parts.join(", CHAR(92 USING utf8mb4), ")})`;
}

export function setVariablesSql(assignments: [string, string | null][]): string | null {
  if (assignments.length === 0) return null;
  const sorted = [...assignments].sort(([a], [b]) => (ORDER[a] ?? 0) - (ORDER[b] ?? 0));
  const parts = sorted.map(([name, value]) => `${quoteIdentifier(name)} = ${value === null ? "DEFAULT" : variableLiteral(name, value)}`);
  return `SET SESSION ${parts.join(", ")}`;
}

const contextKey = (c: PrepareContext) => JSON.stringify([c.database, PARSE_CONTEXT_VARIABLES.map((n) => c.variables[n] ?? null)]);

function prepareSteps(statements: PreparedStatement[], finalDatabase: string | null): RestoreStep[] {
  const groups = new Map<string, PreparedStatement[]>();
  for (const s of statements) groups.set(contextKey(s.context), [...(groups.get(contextKey(s.context)) ?? []), s]);
  // Groups without a database first: once a connection has one, it cannot go back to none.
  const ordered = [...groups.values()].sort((a, b) => Number(a[0]!.context.database !== null) - Number(b[0]!.context.database !== null));
  const steps: RestoreStep[] = [];
  let database: string | null = null;
  let variables: Record<string, string> = {};
  for (const group of ordered) {
    const context = group[0]!.context;
    if (context.database !== database) {
      if (context.database === null) throw new RestoreImpossibleError("prepared statements need no database after others needed one");
      steps.push({ kind: "query", sql: `USE ${quoteIdentifier(context.database)}` });
      database = context.database;
    }
    const changes: [string, string | null][] = PARSE_CONTEXT_VARIABLES.filter((n) => (context.variables[n] ?? null) !== (variables[n] ?? null)).map((n) => [
      n,
      context.variables[n] ?? null,
    ]);
    const set = setVariablesSql(changes);
    if (set) steps.push({ kind: "query", sql: set });
    variables = context.variables;
    for (const s of group) steps.push({ kind: "prepare", clientId: s.clientId, sql: s.sql, params: s.params });
  }
  if (database !== null && finalDatabase === null) {
    throw new RestoreImpossibleError("the session has no current database (it was dropped) but prepared statements used one");
  }
  return steps;
}

/**
 * Whether the plan must start on a connection without a current database: the session has none, or one
 * of its prepared statements was prepared without one (DATABASE() in it, and unqualified names, still
 * mean none). A USE cannot take a connection back to no database, and COM_RESET_CONNECTION keeps it.
 */
export function needsNoDatabase(state: SessionState): boolean {
  return state.database === null || [...state.prepared.values()].some((s) => s.context.database === null);
}

export function restorePlan(state: SessionState, capture: ParkCapture): RestorePlan {
  const steps: RestoreStep[] = [{ kind: "query", sql: TRACKING_SETUP_SQL }];
  if (state.multiStatements !== null) steps.push({ kind: "set-option", option: state.multiStatements ? 0 : 1 });
  const prepared = [...state.prepared.values()].sort((a, b) => a.clientId - b.clientId);
  steps.push(...prepareSteps(prepared, state.database));

  if (state.database !== null) steps.push({ kind: "query", sql: `USE ${quoteIdentifier(state.database)}` });
  // character_set_client with the collation SET NAMES ... COLLATE gave it (what a string parameter of a
  // binary execute takes): only SET NAMES can set that, so it comes first and the SET below leaves
  // character_set_client alone (setting it would bring the character set's default collation back).
  const client = state.clientCollation;
  if (client) {
    if (!/^\w+$/.test(client.charset) || !/^\w+$/.test(client.collation)) throw new RestoreImpossibleError(`SET NAMES ${client.charset} COLLATE ${client.collation}`);
    steps.push({ kind: "query", sql: `SET NAMES ${client.charset} COLLATE ${client.collation}` });
  }
  const assignments: [string, string | null][] = [...state.variables.entries()].filter(
    ([name]) => name !== "collation_connection" && !(client && name === "character_set_client"),
  );
  // Read at parking: the tracker reports SET NAMES' character sets but not the collation it chose. Empty
  // after a COM_RESET_CONNECTION answered while parked: the login's collation stands.
  if (capture.collationConnection !== "") {
    if (!/^\w+$/.test(capture.collationConnection)) throw new RestoreImpossibleError(`collation_connection is ${capture.collationConnection}`);
    assignments.push(["collation_connection", capture.collationConnection]);
  }
  // A parse-context variable a prepare group set but the session did not: back to the login default.
  for (const name of PARSE_CONTEXT_VARIABLES) {
    if (assignments.some(([assigned]) => assigned === name) || state.variables.has(name)) continue; // collation_connection: captured
    if (prepared.some((s) => s.context.variables[name] !== undefined)) assignments.push([name, null]);
  }
  const set = setVariablesSql(assignments);
  if (set) steps.push({ kind: "query", sql: set });

  if (capture.userVariables.length > 0) {
    steps.push({ kind: "query", sql: `SET ${capture.userVariables.map(userVariableAssignment).join(", ")}` });
  }
  for (const sql of state.transactionCharacteristics.split(";")) {
    if (sql.trim()) steps.push({ kind: "query", sql: sql.trim() });
  }
  if (!/^\d+$/.test(capture.lastInsertId)) throw new RestoreImpossibleError(`LAST_INSERT_ID() is ${capture.lastInsertId}`);
  if (capture.lastInsertId !== "0") steps.push({ kind: "query", sql: `DO LAST_INSERT_ID(${capture.lastInsertId})` });
  return { user: state.user, steps };
}
