// A light SQL tokenizer: enough to split a query into statements and read their first keywords and a few
// literal arguments, without understanding the grammar. Strings, quoted identifiers and comments are
// skipped correctly; MariaDB's executable comments (/*! ... */, /*M! ... */) are read as SQL, because
// the server runs them (mysqldump output sets session variables that way).

export type Token =
  | { type: "word"; value: string; upper: string }
  | { type: "string"; value: string }
  | { type: "ident"; value: string }
  | { type: "variable"; value: string }
  | { type: "punct"; value: string }
  | { type: "end" };

/** Letters, digits, _ and $, and anything beyond ASCII (MariaDB's unquoted identifiers). */
function isWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 36 || code >= 0x80;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", Z: "\x1a", b: "\b" };

/** A quoted string or identifier from `start` (its opening quote): the unquoted value and where it ends. */
function readQuoted(sql: string, start: number, quote: string, keep = true): { value: string; end: number } {
  const backslashes = quote !== "`";
  if (!keep) {
    // only where it ends
    let i = start + 1;
    while (i < sql.length) {
      const c = sql.charCodeAt(i);
      if (c === 92 && backslashes) i += 2;
      else if (sql[i] === quote) {
        if (sql[i + 1] !== quote) return { value: "", end: i + 1 };
        i += 2;
      } else i++;
    }
    return { value: "", end: sql.length };
  }
  let value = "";
  let from = start + 1;
  let i = from;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "\\" && backslashes && i + 1 < sql.length) {
      value += sql.slice(from, i) + (ESCAPES[sql[i + 1]!] ?? sql[i + 1]!);
      i += 2;
      from = i;
    } else if (c === quote) {
      value += sql.slice(from, i);
      if (sql[i + 1] !== quote) return { value, end: i + 1 };
      value += quote;
      i += 2;
      from = i;
    } else i++;
  }
  return { value: value + sql.slice(from), end: sql.length }; // unterminated: the server will refuse it
}

const isSpace = (code: number) => code === 32 || (code >= 9 && code <= 13);

/**
 * The tokens of a query. With `limit`, only the first `limit` tokens of each statement are produced (the
 * rest is only scanned for the `;` that ends it): the classifier reads statements by their heads, and a
 * megabyte INSERT then costs a scan, not a token per value.
 */
export function tokenize(sql: string, limit = Infinity): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let executableComment = false;
  let count = 0;
  const push = (token: Token) => {
    tokens.push(token);
    count++;
  };
  while (i < sql.length) {
    const skipping = count >= limit;
    const c = sql[i]!;
    if (isSpace(sql.charCodeAt(i))) {
      i++;
      continue;
    }
    if (c === "#" || (c === "-" && sql[i + 1] === "-" && (i + 2 >= sql.length || isSpace(sql.charCodeAt(i + 2))))) {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const exec = /^\/\*M?!(\d{5,6})?/.exec(sql.slice(i, i + 10));
      if (exec) {
        executableComment = true;
        i += exec[0].length;
        continue;
      }
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
      continue;
    }
    if (executableComment && c === "*" && sql[i + 1] === "/") {
      executableComment = false;
      i += 2;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") {
      const q = readQuoted(sql, i, c, !skipping);
      if (!skipping) push({ type: c === "`" ? "ident" : "string", value: q.value });
      i = q.end;
      continue;
    }
    if (c === "@") {
      let j = i + 1;
      if (sql[j] === "@") j++;
      if (sql[j] === "`" || sql[j] === "'" || sql[j] === '"') {
        const q = readQuoted(sql, j, sql[j]!, !skipping);
        if (!skipping) push({ type: "variable", value: sql.slice(i, j) + q.value });
        i = q.end;
        continue;
      }
      while (j < sql.length && (isWordChar(sql.charCodeAt(j)) || sql[j] === ".")) j++;
      if (!skipping) push({ type: "variable", value: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (isWordChar(sql.charCodeAt(i))) {
      let j = i + 1;
      while (j < sql.length && isWordChar(sql.charCodeAt(j))) j++;
      if (!skipping) {
        const value = sql.slice(i, j);
        push({ type: "word", value, upper: value.toUpperCase() });
      }
      i = j;
      continue;
    }
    if (c === ";") {
      tokens.push({ type: "punct", value: c });
      count = 0;
    } else if (!skipping) push({ type: "punct", value: c });
    i++;
  }
  return tokens;
}

/** Statement starts after which the server reads a compound body, semicolons included, as one statement. */
const COMPOUND_OBJECTS = new Set(["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"]);
const COMPOUND_STARTS = new Set(["IF", "WHILE", "LOOP", "REPEAT", "CASE", "FOR"]);

function startsCompound(tokens: Token[]): boolean {
  const words = tokens.slice(0, 12).map((t) => (t.type === "word" ? t.upper : ""));
  if (words[0] === "CREATE") return words.some((w) => COMPOUND_OBJECTS.has(w));
  if (words[0] === "BEGIN" && words[1] === "NOT" && words[2] === "ATOMIC") return true;
  if (COMPOUND_STARTS.has(words[0] ?? "")) return true;
  // a labelled block: `label: BEGIN NOT ATOMIC ...`
  return tokens[1]?.type === "punct" && tokens[1].value === ":";
}

/** The statements of a (multi-statement) query, as token lists; empty statements are dropped. */
export function splitStatements(tokens: Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  let compound = false;
  for (const token of tokens) {
    if (!compound && token.type === "punct" && token.value === ";") {
      if (current.length > 0) statements.push(current);
      current = [];
      continue;
    }
    current.push(token);
    if (!compound && current.length <= 12) compound = startsCompound(current);
  }
  if (current.length > 0) statements.push(current);
  return statements;
}
