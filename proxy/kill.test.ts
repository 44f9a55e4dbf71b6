import { describe, expect, it } from "vitest";
import { formatKill, parseKill } from "./kill";

describe("parseKill", () => {
  it("recognises the forms the clients send", () => {
    expect(parseKill("KILL QUERY 12")).toEqual({ hard: null, query: true, id: 12 });
    expect(parseKill("kill 7;")).toEqual({ hard: null, query: false, id: 7 });
    expect(parseKill("  KILL CONNECTION 99 ")).toEqual({ hard: null, query: false, id: 99 });
    expect(parseKill("KILL HARD QUERY 3")).toEqual({ hard: true, query: true, id: 3 });
  });

  it("leaves everything else alone", () => {
    for (const sql of ["SELECT 1", "KILL QUERY", "KILL USER app", "KILL QUERY ID 5", "killer 5", "KILL 5; DROP TABLE t", "KILL 99999999999"]) {
      expect(parseKill(sql), sql).toBeNull();
    }
  });

  it("rewrites the id", () => {
    expect(formatKill(parseKill("kill query 5")!, 812)).toBe("KILL QUERY 812");
    expect(formatKill(parseKill("KILL SOFT 5")!, 9)).toBe("KILL SOFT 9");
  });
});
