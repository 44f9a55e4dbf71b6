import { splitStatements, tokenize, type Token } from "./sql-tokens";

// What a statement does to session state the server's session tracking does not report. System
// variables, the current database and transaction characteristics come from the tracked OK packets, and
// transactions from the status flags; user variables are read at parking time. What remains is found
// here from the statement's first keywords and a few literal arguments:
//
//   LOCK TABLES / UNLOCK TABLES, FLUSH TABLES ... WITH READ LOCK | FOR EXPORT, BACKUP STAGE / BACKUP LOCK,
//   XA START / XA COMMIT | ROLLBACK, CREATE / DROP TEMPORARY TABLE | SEQUENCE, HANDLER ... OPEN / CLOSE,
//   PREPARE / DEALLOCATE PREPARE (SQL-level statements), GET_LOCK / RELEASE_LOCK / RELEASE_ALL_LOCKS,
//   SET ROLE, CALL and EXECUTE IMMEDIATE and compound statements (they run SQL the proxy cannot see).
//
// The classifier errs towards pinning: a lock whose name is not a literal counts as held until
// RELEASE_ALL_LOCKS(), a DROP of a name it does not know leaves the known temporary tables in place, and
// anything it does not recognise adds nothing, because it cannot add a lock or a temporary table either
// (only the statements above do, and stored routines, which CALL / EXECUTE IMMEDIATE cover).

export type Effect =
  | { type: "lock-tables" }
  | { type: "unlock-tables" }
  | { type: "global-read-lock" }
  | { type: "backup-lock" }
  | { type: "backup-unlock" }
  | { type: "xa-open" }
  | { type: "xa-close" }
  | { type: "temporary-created"; name: string }
  | { type: "tables-dropped"; names: string[] }
  | { type: "handler-open"; alias: string }
  | { type: "handler-close"; alias: string }
  | { type: "sql-prepare"; name: string }
  | { type: "sql-deallocate"; name: string }
  | { type: "get-lock"; name: string | null }
  | { type: "release-lock"; name: string | null }
  | { type: "release-all-locks" }
  | { type: "set-role" }
  /** SET session_track_...: the proxy follows on only if the server reports a value it can work with. */
  | { type: "tracking-set"; name: string }
  /** SET var = ... of a session system variable (other than session_track_...): its OK must report it. */
  | { type: "variable-set"; name: string }
  /** SET GLOBAL session_track_...: the compute's tracking defaults may no longer be what the proxy checked. */
  | { type: "global-tracking-set" }
  /** SET var = DEFAULT: back to the login value (the tracker reports it as a value, e.g. timestamp's "now"). */
  | { type: "variable-default"; name: string }
  /** Runs SQL the proxy cannot see (CALL, EXECUTE IMMEDIATE, compound statements, SQL EXECUTE). */
  | { type: "opaque"; what: string };

export interface StatementClass {
  /** The first keywords, e.g. "CREATE TEMPORARY TABLE", for messages. */
  head: string;
  effects: Effect[];
  /** Whether it may leave a transaction open even when it fails in autocommit mode. */
  mayStartTransaction: boolean;
}

const word = (t: Token | undefined): string => (t?.type === "word" ? t.upper : "");
const isPunct = (t: Token | undefined, p: string) => t?.type === "punct" && t.value === p;

/** A (possibly qualified) name starting at tokens[i]: its text and the index after it. */
function readName(tokens: Token[], i: number): { name: string; next: number } | null {
  const part = (t: Token | undefined) => (t?.type === "word" ? t.value : t?.type === "ident" ? t.value : null);
  const first = part(tokens[i]);
  if (first === null) return null;
  if (isPunct(tokens[i + 1], ".")) {
    const second = part(tokens[i + 2]);
    if (second !== null) return { name: `${first}.${second}`, next: i + 3 };
  }
  return { name: first, next: i + 1 };
}

/** Names following `from` (comma-separated, qualified allowed). */
function readNameList(tokens: Token[], from: number): string[] {
  const names: string[] = [];
  let i = from;
  for (;;) {
    const n = readName(tokens, i);
    if (!n) break;
    names.push(n.name);
    if (!isPunct(tokens[n.next], ",")) break;
    i = n.next + 1;
  }
  return names;
}

/** Skips IF [NOT] EXISTS. */
function skipIfExists(tokens: Token[], i: number): number {
  if (word(tokens[i]) !== "IF") return i;
  return word(tokens[i + 1]) === "NOT" ? i + 3 : i + 2;
}

/** GET_LOCK('name', ...), RELEASE_LOCK('name'), RELEASE_ALL_LOCKS() anywhere in the statement. */
function lockFunctions(tokens: Token[]): Effect[] {
  const effects: Effect[] = [];
  tokens.forEach((t, i) => {
    const w = word(t);
    if (!isPunct(tokens[i + 1], "(")) return;
    const arg = tokens[i + 2];
    const literal = arg?.type === "string" && (isPunct(tokens[i + 3], ",") || isPunct(tokens[i + 3], ")")) ? arg.value : null;
    if (w === "GET_LOCK") effects.push({ type: "get-lock", name: literal });
    else if (w === "RELEASE_LOCK") effects.push({ type: "release-lock", name: literal });
    else if (w === "RELEASE_ALL_LOCKS") effects.push({ type: "release-all-locks" });
  });
  return effects;
}

/** The session variables a SET assigns (`SET [SESSION] x = 1, @@session.y := DEFAULT`); global and user ones are skipped. */
function sessionAssignments(tokens: Token[]): { name: string; toDefault: boolean }[] {
  const pieces: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens.slice(1)) {
    if (isPunct(t, "(")) depth++;
    if (isPunct(t, ")")) depth--;
    if (depth === 0 && isPunct(t, ",")) pieces.push([]);
    else pieces[pieces.length - 1]!.push(t);
  }
  const assignments: { name: string; toDefault: boolean }[] = [];
  for (let piece of pieces) {
    if (word(piece[0]) === "SESSION" || word(piece[0]) === "LOCAL") piece = piece.slice(1);
    const target = piece[0];
    let name: string | null = null;
    if (target?.type === "word" && target.upper !== "GLOBAL") name = target.value;
    else if (target?.type === "variable" && target.value.startsWith("@@")) {
      const bare = target.value.slice(2).toLowerCase();
      name = bare.startsWith("global.") ? null : bare.replace(/^(session|local)\./, "");
    }
    if (!name) continue;
    let i = 1;
    if (isPunct(piece[i], ":")) i++;
    if (!isPunct(piece[i], "=")) continue;
    assignments.push({ name: name.toLowerCase(), toDefault: word(piece[i + 1]) === "DEFAULT" && piece.length === i + 2 });
  }
  return assignments;
}

/** SET GLOBAL (or @@GLOBAL.) with a session_track_ variable anywhere in it. */
function setsGlobalTracking(tokens: Token[]): boolean {
  const text = (t: Token) => (t.type === "word" || t.type === "variable" ? t.value.toLowerCase() : "");
  const global = tokens.some((t) => text(t) === "global" || text(t).startsWith("@@global."));
  return global && tokens.some((t) => text(t).includes("session_track_"));
}

const ROUTINES = new Set(["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"]);

export function classifyStatement(tokens: Token[]): StatementClass {
  const w = tokens.slice(0, 8).map(word);
  const head = w.slice(0, 3).filter(Boolean).join(" ");
  const effects: Effect[] = [];
  let mayStartTransaction = false;
  const out = (e: Effect) => effects.push(e);

  switch (w[0]) {
    case "LOCK":
      if (w[1] === "TABLE" || w[1] === "TABLES") out({ type: "lock-tables" });
      break;
    case "UNLOCK":
      if (w[1] === "TABLE" || w[1] === "TABLES") out({ type: "unlock-tables" });
      break;
    case "FLUSH": {
      const words = tokens.map(word);
      const readLock = words.includes("READ") && words.includes("LOCK");
      if ((w[1] === "TABLE" || w[1] === "TABLES" || w[1] === "LOCAL" || w[1] === "NO_WRITE_TO_BINLOG") && (readLock || words.includes("EXPORT"))) {
        out({ type: "global-read-lock" });
      }
      break;
    }
    case "BACKUP":
      if (w[1] === "STAGE") out(w[2] === "END" ? { type: "backup-unlock" } : { type: "backup-lock" });
      else if (w[1] === "LOCK") out({ type: "backup-lock" });
      else if (w[1] === "UNLOCK") out({ type: "backup-unlock" });
      break;
    case "XA":
      mayStartTransaction = true;
      if (w[1] === "START" || w[1] === "BEGIN") out({ type: "xa-open" });
      else if (w[1] === "COMMIT" || w[1] === "ROLLBACK") out({ type: "xa-close" });
      break;
    case "CREATE": {
      let i = 1;
      if (w[1] === "OR" && w[2] === "REPLACE") i = 3;
      if (word(tokens[i]) === "TEMPORARY" && (word(tokens[i + 1]) === "TABLE" || word(tokens[i + 1]) === "SEQUENCE")) {
        const name = readName(tokens, skipIfExists(tokens, i + 2));
        if (name) out({ type: "temporary-created", name: name.name });
      }
      break;
    }
    case "DROP": {
      let i = 1;
      if (w[1] === "TEMPORARY") i = 2;
      if (word(tokens[i]) === "TABLE" || word(tokens[i]) === "TABLES" || word(tokens[i]) === "SEQUENCE") {
        out({ type: "tables-dropped", names: readNameList(tokens, skipIfExists(tokens, i + 1)) });
      } else if (w[1] === "PREPARE") {
        const name = readName(tokens, 2);
        if (name) out({ type: "sql-deallocate", name: name.name });
      }
      break;
    }
    case "HANDLER": {
      const table = readName(tokens, 1);
      if (!table) break;
      const action = word(tokens[table.next]);
      if (action === "OPEN") {
        let alias = table.name.split(".").pop()!;
        const as = table.next + 1;
        if (word(tokens[as]) === "AS" && readName(tokens, as + 1)) alias = readName(tokens, as + 1)!.name;
        else if (readName(tokens, as)) alias = readName(tokens, as)!.name;
        out({ type: "handler-open", alias });
      } else if (action === "CLOSE") out({ type: "handler-close", alias: table.name });
      break;
    }
    case "PREPARE": {
      const name = readName(tokens, 1);
      if (name) out({ type: "sql-prepare", name: name.name });
      break;
    }
    case "DEALLOCATE": {
      const name = readName(tokens, 2);
      if (name) out({ type: "sql-deallocate", name: name.name });
      break;
    }
    case "EXECUTE":
      mayStartTransaction = true;
      out({ type: "opaque", what: w[1] === "IMMEDIATE" ? "EXECUTE IMMEDIATE" : "EXECUTE of an SQL prepared statement" });
      break;
    case "CALL": {
      mayStartTransaction = true;
      const name = readName(tokens, 1);
      out({ type: "opaque", what: `CALL ${name?.name ?? "(procedure)"}` });
      break;
    }
    case "SET":
      if (w[1] === "ROLE") out({ type: "set-role" });
      else if (w[1] === "STATEMENT") {
        // SET STATEMENT var=value [, ...] FOR <statement>: the statement's own effects count.
        const at = tokens.findIndex((t) => word(t) === "FOR");
        if (at > 0) {
          const inner = classifyStatement(tokens.slice(at + 1));
          effects.push(...inner.effects);
          mayStartTransaction = inner.mayStartTransaction;
        }
      } else {
        for (const a of sessionAssignments(tokens)) {
          if (a.toDefault) out({ type: "variable-default", name: a.name });
          if (a.name.startsWith("session_track_")) out({ type: "tracking-set", name: a.name });
          else out({ type: "variable-set", name: a.name });
        }
        if (setsGlobalTracking(tokens)) out({ type: "global-tracking-set" });
      }
      break;
    case "START":
    case "BEGIN":
      mayStartTransaction = true;
      if (w[0] === "BEGIN" && w[1] === "NOT") out({ type: "opaque", what: "a compound statement (BEGIN NOT ATOMIC)" });
      break;
    case "IF":
    case "WHILE":
    case "LOOP":
    case "REPEAT":
    case "CASE":
    case "FOR":
      mayStartTransaction = true;
      out({ type: "opaque", what: `a compound statement (${w[0]})` });
      break;
  }
  if (isPunct(tokens[1], ":")) {
    mayStartTransaction = true;
    out({ type: "opaque", what: "a labelled compound statement" });
  }
  // A routine's definition only stores its body; what the body does counts when it is called (CALL).
  const definesRoutine = w[0] === "CREATE" && w.some((x) => ROUTINES.has(x));
  if (!definesRoutine) effects.push(...lockFunctions(tokens));
  return { head, effects, mayStartTransaction };
}

/**
 * Every keyword the classifier acts on. Most queries (point selects, bulk inserts) contain none of them
 * and skip tokenizing, which costs microseconds per statement and megabytes per second; a false match
 * (CASE WHEN, FOR UPDATE, DEFAULT) only costs that time.
 */
const KEYWORDS =
  /\b(LOCK|UNLOCK|TABLES?|TEMPORARY|HANDLER|PREPARE|DEALLOCATE|XA|CALL|EXECUTE|BACKUP|ROLE|FLUSH|DROP|BEGIN|START|IF|WHILE|LOOP|REPEAT|CASE|FOR|DEFAULT|STATEMENT|GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS|SESSION_TRACK_\w+)\b/i;

const NOTHING: StatementClass[] = [{ head: "", effects: [], mayStartTransaction: false }];

/** The lock functions are looked for in whole statements; everything else in their first tokens. */
const LOCK_FUNCTIONS = /\b(GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS)\b/i;
const HEAD_TOKENS = 256;

/** A query that starts with SET: its assignments are checked against what tracking reports (variable-set). */
const LEADING_SET = /^\s*SET\s/i;

export function classifyQuery(sql: string): StatementClass[] {
  if (!KEYWORDS.test(sql) && !LEADING_SET.test(sql)) return NOTHING;
  return splitStatements(tokenize(sql, LOCK_FUNCTIONS.test(sql) ? Infinity : HEAD_TOKENS)).map(classifyStatement);
}
