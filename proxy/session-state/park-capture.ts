// What the proxy reads from the compute when it parks a session, because session tracking does not report
// it: user variables (with their exact type and bytes), LAST_INSERT_ID() and collation_connection (SET NAMES
// reports the character sets but not the collation it chose). One query, and a second only
// when the session has user variables. `@@in_transaction` comes along as a last check that no transaction
// is open (and the query's own EOF/OK refreshes the status flags the pins read).

export const CAPTURE_SQL =
  "SELECT v.VARIABLE_NAME, v.VARIABLE_TYPE, LAST_INSERT_ID(), @@in_transaction, @@collation_connection " +
  "FROM (SELECT 1) AS one LEFT JOIN information_schema.USER_VARIABLES AS v ON TRUE";

/** A text-protocol row: each column's value as a string, or null for SQL NULL. */
export type TextRow = (string | null)[];

export type UserVariableType = "INT" | "INT UNSIGNED" | "DECIMAL" | "DOUBLE" | "VARCHAR";

export interface UserVariable {
  name: string;
  type: UserVariableType;
  /** Numbers: the value as text (exact: MariaDB prints doubles with 17 significant digits). Strings: hex. */
  value: string | null;
  /** Strings: the collation ("binary" for byte strings). */
  collation: string | null;
}

export interface ParkCapture {
  userVariables: UserVariable[];
  lastInsertId: string;
  inTransaction: boolean;
  collationConnection: string;
}

const TYPES = new Set<string>(["INT", "INT UNSIGNED", "DECIMAL", "DOUBLE", "VARCHAR"]);

export class CaptureError extends Error {}

/** A backquoted identifier (user variable names may hold any character). */
export const quoteIdentifier = (name: string) => "`" + name.replace(/`/g, "``") + "`";

const userVariable = (name: string) => "@" + quoteIdentifier(name);

/** The first query's rows: the variables' names and types, LAST_INSERT_ID() and @@in_transaction. */
export function readCapture(rows: TextRow[]): Omit<ParkCapture, "userVariables"> & { variables: { name: string; type: UserVariableType }[] } {
  const first = rows[0];
  if (!first) throw new CaptureError("the capture query returned no row");
  const variables = rows
    .filter((row) => row[0] !== null)
    .map((row) => {
      const type = row[1] ?? "";
      if (!TYPES.has(type)) throw new CaptureError(`user variable @${row[0]} has type ${type}, which the proxy cannot restore`);
      return { name: row[0]!, type: type as UserVariableType };
    });
  return { variables, lastInsertId: first[2] ?? "0", inTransaction: first[3] === "1", collationConnection: first[4] ?? "" };
}

/** The second query: for each variable, NULL-ness, its value as exact text (numbers) or hex (strings), and collation. */
export function valuesSql(variables: { name: string; type: UserVariableType }[]): string {
  const columns = variables.flatMap(({ name, type }) => {
    const v = userVariable(name);
    return [`${v} IS NULL`, type === "VARCHAR" ? `HEX(${v})` : `CAST(${v} AS CHAR)`, `COLLATION(${v})`];
  });
  return `SELECT ${columns.join(", ")}`;
}

export function readValues(variables: { name: string; type: UserVariableType }[], row: TextRow): UserVariable[] {
  if (row.length !== variables.length * 3) throw new CaptureError("the user variables changed while they were read");
  return variables.map(({ name, type }, i) => {
    const isNull = row[i * 3] === "1";
    return { name, type, value: isNull ? null : (row[i * 3 + 1] ?? null), collation: type === "VARCHAR" ? (row[i * 3 + 2] ?? null) : null };
  });
}

/** A collation's character set: its name up to the first underscore (utf8mb4_bin, latin1_swedish_ci). */
function charsetOf(v: UserVariable): string {
  const collation = v.collation ?? "";
  if (!/^[a-z0-9]+_\w+$/i.test(collation)) throw new CaptureError(`user variable @${v.name} has collation ${collation}`);
  return collation.split("_")[0]!;
}

/** The SQL expression that gives a user variable back its value and type. */
export function userVariableExpression(v: UserVariable): string {
  if (v.value === null && v.type === "VARCHAR" && v.collation && v.collation !== "binary") {
    return `CAST(NULL AS CHAR CHARACTER SET ${charsetOf(v)}) COLLATE ${v.collation}`; // a string NULL keeps its collation
  }
  if (v.value === null) {
    return { INT: "CAST(NULL AS SIGNED)", "INT UNSIGNED": "CAST(NULL AS UNSIGNED)", DECIMAL: "CAST(NULL AS DECIMAL)", DOUBLE: "CAST(NULL AS DOUBLE)", VARCHAR: "NULL" }[v.type];
  }
  const text = v.value;
  switch (v.type) {
    case "INT":
      if (!/^-?\d+$/.test(text)) throw new CaptureError(`user variable @${v.name} has integer value ${text}`);
      return `CAST(${text} AS SIGNED)`; // -9223372036854775808 alone would read as a DECIMAL
    case "INT UNSIGNED":
      if (!/^\d+$/.test(text)) throw new CaptureError(`user variable @${v.name} has unsigned value ${text}`);
      return `CAST(${text} AS UNSIGNED)`;
    case "DECIMAL": {
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw new CaptureError(`user variable @${v.name} has decimal value ${text}`);
      const [whole, fraction = ""] = text.replace("-", "").split(".");
      const precision = Math.min(65, Math.max(whole!.length + fraction.length, 1));
      return `CAST(${text} AS DECIMAL(${precision},${fraction.length}))`;
    }
    case "DOUBLE":
      if (!/^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(text)) throw new CaptureError(`user variable @${v.name} has double value ${text}`);
      return /e/i.test(text) ? text : `${text}e0`;
    case "VARCHAR": {
      if (!/^([0-9A-F]{2})*$/i.test(text)) throw new CaptureError(`user variable @${v.name}: bad hex`);
      const collation = v.collation ?? "binary";
      if (collation === "binary") return `_binary X'${text}'`;
      return `_${charsetOf(v)} X'${text}' COLLATE ${collation}`;
    }
  }
}

export function userVariableAssignment(v: UserVariable): string {
  return `${userVariable(v.name)} = ${userVariableExpression(v)}`;
}
