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

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

function readQuoted(sql: string, start: number, quote: string): { value: string; end: number } {
  let value = "";
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "\\" && quote !== "`" && i + 1 < sql.length) {
      const next = sql[i + 1]!;
      value += ({ n: "\n", t: "\t", r: "\r", "0": "\0", Z: "\x1a", b: "\b" } as Record<string, string>)[next] ?? next;
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i++;
  }
  return { value, end: sql.length }; // unterminated: the server will refuse it; the rest is its text
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let executableComment = false;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "#" || (c === "-" && sql[i + 1] === "-" && (i + 2 >= sql.length || /\s/.test(sql[i + 2]!)))) {
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
    if (c === "'" || c === '"') {
      const q = readQuoted(sql, i, c);
      tokens.push({ type: "string", value: q.value });
      i = q.end;
      continue;
    }
    if (c === "`") {
      const q = readQuoted(sql, i, c);
      tokens.push({ type: "ident", value: q.value });
      i = q.end;
      continue;
    }
    if (c === "@") {
      let j = i + 1;
      if (sql[j] === "@") j++;
      if (sql[j] === "`" || sql[j] === "'" || sql[j] === '"') {
        const q = readQuoted(sql, j, sql[j]!);
        tokens.push({ type: "variable", value: sql.slice(i, j) + q.value });
        i = q.end;
        continue;
      }
      while (j < sql.length && (WORD.test(sql[j]!) || sql[j] === ".")) j++;
      tokens.push({ type: "variable", value: sql.slice(i, j) });
      i = j;
      continue;
    }
    if (WORD.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD.test(sql[j]!)) j++;
      const value = sql.slice(i, j);
      tokens.push({ type: "word", value, upper: value.toUpperCase() });
      i = j;
      continue;
    }
    tokens.push({ type: "punct", value: c });
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
