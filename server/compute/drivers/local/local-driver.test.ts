import { describe, expect, it } from "vitest";
import { bufferPoolMiB, initFileSql, mariadbdArgs, SESSION_TRACKING_ARGS } from "./mariadb-config";
import { computePaths } from "./paths";
import { DENIED_PRIVILEGES, GRANTED_PRIVILEGES, grantSql } from "./privileges";
import { parseState, toDriverState } from "./state";
import { roleAccount, sqlIdent, sqlString } from "./sql-quote";

describe("local driver pieces", () => {
  it("quotes strings and identifiers", () => {
    expect(sqlString("app")).toBe("'app'");
    expect(sqlString("o'k\\")).toBe("'o''k\\\\'");
    expect(sqlIdent("my`db")).toBe("`my``db`");
    expect(roleAccount("app")).toBe("'app'@'%'");
    expect(() => sqlString("a\0b")).toThrow();
    expect(() => sqlIdent("")).toThrow();
  });

  it("scales the buffer pool from compute units, within bounds", () => {
    expect(bufferPoolMiB(0.25)).toBe(32);
    expect(bufferPoolMiB(1)).toBe(128);
    expect(bufferPoolMiB(0)).toBe(32);
    expect(bufferPoolMiB(Number.NaN)).toBe(32);
    expect(bufferPoolMiB(1000)).toBe(2048);
  });

  it("runs mariadbd with --no-defaults first and everything in the compute directory", () => {
    const paths = computePaths("/srv/data", "c1");
    const args = mariadbdArgs({ paths, host: "127.0.0.1", port: 4000, size: 0.25 });
    expect(args[0]).toBe("--no-defaults");
    expect(args).toContain("--datadir=/srv/data/computes/c1/data");
    expect(args).toContain("--socket=/srv/data/computes/c1/mysqld.sock");
    expect(args).toContain("--port=4000");
    expect(args.filter((arg) => arg.startsWith("--user"))).toEqual([]);
    expect(args).toContain("--tmpdir=/srv/data/computes/c1/tmp");
    expect(args).toContain("--secure-file-priv=/srv/data/computes/c1/files");
    expect(args).toContain("--skip-symbolic-links");
    expect(args).toContain("--innodb-buffer-pool-size=32M");
    // The session tracking the proxy follows sessions with, as every connection's default.
    expect(args).toEqual(expect.arrayContaining(SESSION_TRACKING_ARGS));
  });

  it("never grants or leaves the privileges that reach beyond the compute", () => {
    const granted = new Set<string>(GRANTED_PRIVILEGES);
    for (const denied of DENIED_PRIVILEGES) expect(granted.has(denied)).toBe(false);
    // MariaDB 10.11's ALL PRIVILEGES is exactly the two lists together.
    expect(GRANTED_PRIVILEGES.length + DENIED_PRIVILEGES.length).toBe(38);
    const grant = grantSql("'app'@'%'");
    expect(grant).toMatch(/^GRANT SELECT, .* ON \*\.\* TO 'app'@'%' WITH GRANT OPTION$/);
    expect(grant).not.toMatch(/\b(FILE|SUPER|SHUTDOWN)\b/);

    const init = initFileSql("root").split("\n");
    // The revoke runs first (the template's root has ALL PRIVILEGES), each statement on one line.
    expect(init[0]).toMatch(/^BEGIN NOT ATOMIC .*REVOKE FILE, SUPER, SHUTDOWN, .* END;$/);
    expect(init).toContain("CREATE USER IF NOT EXISTS 'root'@'localhost' IDENTIFIED VIA unix_socket;");
    // The control plane's account is altered and granted to only when it is not as the init file leaves it.
    expect(init[2]).toMatch(/^BEGIN NOT ATOMIC IF \(SELECT COUNT\(\*\) FROM mysql\.global_priv .*\) = 0 THEN ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket ACCOUNT UNLOCK; END IF; END;$/);
    expect(init[3]).toContain(`THEN ${grantSql("'root'@'localhost'")}; END IF; END;`);
    expect(init.filter((line) => line.length > 0).every((line) => line.endsWith(";"))).toBe(true);
  });

  it("refuses compute ids that would leave the computes directory", () => {
    expect(() => computePaths("/srv/data", "../etc")).toThrow();
    expect(() => computePaths("/srv/data", "a/b")).toThrow();
    expect(() => computePaths(`/${"x".repeat(100)}`, "c1")).toThrow(/unix socket path/);
  });

  it("reads only well-formed facts from a stored state and writes them in jsonb key order", () => {
    const parsed = parseState({ pid: "12", port: 3306, host: "", startedAt: "2026-01-01T00:00:00.000Z" });
    expect(parsed).toMatchObject({ pid: null, port: 3306, host: null, startedAt: "2026-01-01T00:00:00.000Z" });
    expect(Object.keys(toDriverState(parsed))).toEqual([
      "pid",
      "host",
      "port",
      "socket",
      "dataDir",
      "startedAt",
      "procStartTime",
      "mariadbVersion",
    ]);
  });
});
