import { describe, expect, it } from "vitest";
import { splitStatements, tokenize } from "./sql-tokens";
import { classifyQuery } from "./statement-classifier";

const effects = (sql: string) => classifyQuery(sql).flatMap((s) => s.effects);

describe("splitting", () => {
  it("splits at semicolons outside strings, identifiers and comments", () => {
    const parts = splitStatements(tokenize("SELECT ';' AS `a;b`; -- c;\n/* d; */ SELECT \"e;\" # f;\n; ;DO 1"));
    expect(parts.map((p) => p.map((t) => ("value" in t ? t.value : "")).join(" "))).toEqual(["SELECT ; AS a;b", "SELECT e;", "DO 1"]);
  });

  it("reads executable comments as SQL and keeps a compound statement whole", () => {
    expect(effects("/*!40101 LOCK TABLES t WRITE */")).toEqual([{ type: "lock-tables" }]);
    expect(effects("/*M!100100 CREATE TEMPORARY TABLE x (a int) */")).toEqual([{ type: "temporary-created", name: "x" }]);
    expect(classifyQuery("CREATE PROCEDURE p() BEGIN SELECT GET_LOCK('a', 1); LOCK TABLES t READ; END; DO 1").map((s) => s.head)).toEqual(["CREATE PROCEDURE P"]);
    expect(classifyQuery("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END")).toHaveLength(1);
  });

  it("unescapes strings the way MariaDB does", () => {
    expect(tokenize(`'it''s \\n'`)).toEqual([{ type: "string", value: "it's \n" }]);
  });
});

describe("classifyQuery", () => {
  it("finds locks and their releases", () => {
    expect(effects("LOCK TABLE t1 READ, t2 WRITE")).toEqual([{ type: "lock-tables" }]);
    expect(effects("unlock tables")).toEqual([{ type: "unlock-tables" }]);
    expect(effects("FLUSH TABLES WITH READ LOCK")).toEqual([{ type: "global-read-lock" }]);
    expect(effects("FLUSH TABLES t1 FOR EXPORT")).toEqual([{ type: "global-read-lock" }]);
    expect(effects("FLUSH PRIVILEGES")).toEqual([]);
    expect(effects("BACKUP STAGE START; BACKUP STAGE END")).toEqual([{ type: "backup-lock" }, { type: "backup-unlock" }]);
  });

  it("reads GET_LOCK names when they are literals", () => {
    expect(effects("SELECT GET_LOCK('job', 10), RELEASE_LOCK('old')")).toEqual([
      { type: "get-lock", name: "job" },
      { type: "release-lock", name: "old" },
    ]);
    expect(effects("SELECT get_lock(CONCAT('a', id), 0) FROM t")).toEqual([{ type: "get-lock", name: null }]);
    expect(effects("DO RELEASE_ALL_LOCKS()")).toEqual([{ type: "release-all-locks" }]);
    expect(effects("SELECT 'GET_LOCK(1)'")).toEqual([]);
  });

  it("names temporary tables, handlers and SQL prepared statements", () => {
    expect(effects("CREATE TEMPORARY TABLE IF NOT EXISTS db1.`t 1` (a int)")).toEqual([{ type: "temporary-created", name: "db1.t 1" }]);
    expect(effects("create or replace temporary sequence s")).toEqual([{ type: "temporary-created", name: "s" }]);
    expect(effects("CREATE TABLE t (a int)")).toEqual([]);
    expect(effects("DROP TEMPORARY TABLE IF EXISTS a, b.c")).toEqual([{ type: "tables-dropped", names: ["a", "b.c"] }]);
    expect(effects("HANDLER t1 OPEN AS h; HANDLER h CLOSE; HANDLER db.t2 OPEN")).toEqual([
      { type: "handler-open", alias: "h" },
      { type: "handler-close", alias: "h" },
      { type: "handler-open", alias: "t2" },
    ]);
    expect(effects("PREPARE s1 FROM 'SELECT 1'; DEALLOCATE PREPARE s1; DROP PREPARE s2")).toEqual([
      { type: "sql-prepare", name: "s1" },
      { type: "sql-deallocate", name: "s1" },
      { type: "sql-deallocate", name: "s2" },
    ]);
  });

  it("knows XA, SET ROLE, SET ... = DEFAULT and what runs unseen SQL", () => {
    expect(effects("XA START 'x'; XA END 'x'; XA PREPARE 'x'; XA COMMIT 'x'")).toEqual([{ type: "xa-open" }, { type: "xa-close" }]);
    expect(effects("SET ROLE admin")).toEqual([{ type: "set-role" }]);
    expect(effects("SET timestamp = DEFAULT, @@session.sql_mode := DEFAULT, @@global.x = DEFAULT, @u = DEFAULT, time_zone = '+00:00'")).toEqual([
      { type: "variable-default", name: "timestamp" },
      { type: "variable-set", name: "timestamp" },
      { type: "variable-default", name: "sql_mode" },
      { type: "variable-set", name: "sql_mode" },
      { type: "variable-set", name: "time_zone" },
    ]);
    expect(effects("SET GLOBAL session_track_state_change = OFF")).toEqual([{ type: "global-tracking-set" }]);
    expect(effects("SET @@global.session_track_system_variables = ''")).toEqual([{ type: "global-tracking-set" }]);
    expect(effects("SET GLOBAL max_connections = 10")).toEqual([]);
    expect(effects("SET STATEMENT max_statement_time=1 FOR LOCK TABLES t READ")).toEqual([{ type: "lock-tables" }]);
    expect(effects("CALL db.p(1)")).toEqual([{ type: "opaque", what: "CALL db.p" }]);
    expect(effects("EXECUTE IMMEDIATE 'SELECT 1'")).toEqual([{ type: "opaque", what: "EXECUTE IMMEDIATE" }]);
    expect(classifyQuery("CALL p()")[0]!.mayStartTransaction).toBe(true);
    expect(classifyQuery("INSERT INTO t VALUES (1)")[0]!.mayStartTransaction).toBe(false);
  });
});
