import { describe, expect, it } from "vitest";
import { formatKill, parseKill } from "./kill";

describe("parseKill", () => {
  it("recognises the forms the clients send", () => {
    expect(parseKill("KILL QUERY 12")).toEqual({ hard: null, query: true, id: 12, rest: "" });
    expect(parseKill("kill 7;")).toEqual({ hard: null, query: false, id: 7, rest: "" });
    expect(parseKill("  KILL CONNECTION 99 ")).toEqual({ hard: null, query: false, id: 99, rest: "" });
    expect(parseKill("KILL HARD QUERY 3")).toEqual({ hard: true, query: true, id: 3, rest: "" });
  });

  it("recognises a KILL followed by more statements, and keeps them", () => {
    expect(parseKill("kill 350224397; select sleep(0.05)")).toEqual({ hard: null, query: false, id: 350224397, rest: "; select sleep(0.05)" });
    expect(parseKill("KILL QUERY 5 ;\nSELECT 1;")).toEqual({ hard: null, query: true, id: 5, rest: ";\nSELECT 1;" });
  });

  it("leaves everything else alone", () => {
    for (const sql of ["SELECT 1", "KILL QUERY", "KILL USER app", "KILL QUERY ID 5", "killer 5", "KILL 5 DROP TABLE t", "KILL 99999999999", "SELECT 1; KILL 5"]) {
      expect(parseKill(sql), sql).toBeNull();
    }
  });

  it("rewrites the id", () => {
    expect(formatKill(parseKill("kill query 5")!, 812)).toBe("KILL QUERY 812");
    expect(formatKill(parseKill("KILL SOFT 5")!, 9)).toBe("KILL SOFT 9");
    expect(formatKill(parseKill("KILL 5; SELECT SLEEP(0.05)")!, 9)).toBe("KILL 9; SELECT SLEEP(0.05)");
  });
});
