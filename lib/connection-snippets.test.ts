import { describe, expect, it } from "vitest";
import { CONNECTION_SNIPPETS, connectionUri, SNIPPET_CLIENTS } from "./connection-snippets";

const conn = { host: "127.0.0.1", port: 3307, user: "wispy-river-4821.app", database: "main", password: "p@ss'w:rd" };

describe("connection snippets", () => {
  it("has one generator per client of the console", () => {
    expect(SNIPPET_CLIENTS).toEqual(["cli", "uri", "node", "python", "java", "php"]);
  });

  it("puts the password in only while it is known, escaped for each language", () => {
    expect(connectionUri(conn)).toBe("mysql://wispy-river-4821.app:p%40ss'w%3Ard@127.0.0.1:3307/main");
    expect(CONNECTION_SNIPPETS.cli.render(conn)).toBe("mariadb -h 127.0.0.1 -P 3307 -u wispy-river-4821.app -p'p@ss'\\''w:rd' main");
    expect(CONNECTION_SNIPPETS.python.render(conn)).toContain("password='p@ss\\'w:rd'");
    const hidden = { ...conn, password: null };
    expect(CONNECTION_SNIPPETS.cli.render(hidden)).toBe("mariadb -h 127.0.0.1 -P 3307 -u wispy-river-4821.app -p main");
    expect(connectionUri(hidden)).toContain(":<password>@");
    expect(CONNECTION_SNIPPETS.node.render(hidden)).toContain("process.env.MARIADB_PASSWORD");
  });
});
