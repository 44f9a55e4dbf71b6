import { describe, expect, it } from "vitest";
import { scramVerifier } from "./scram";

describe("scramVerifier", () => {
  it("computes what PostgreSQL 18 stores for the same password and salt", () => {
    // From `CREATE ROLE vec PASSWORD 'pencil'; SELECT rolpassword FROM pg_authid WHERE rolname = 'vec'`.
    const stored =
      "SCRAM-SHA-256$4096:AOV+PE53bTMWrlfatK1rcQ==$71swfU8HCTJ2R1O3o3vPaYjEnJxl6pYj3wjBUl38nro=:z608OW/dOlmpZ4EiN7/U6d3hZHgTdHpvAkK4/u7tme4=";
    expect(scramVerifier("pencil", Buffer.from("AOV+PE53bTMWrlfatK1rcQ==", "base64"))).toBe(stored);
  });

  it("uses a fresh salt each time and refuses passwords SASLprep would change", () => {
    expect(scramVerifier("pencil")).not.toBe(scramVerifier("pencil"));
    expect(() => scramVerifier("pässword")).toThrow(/ASCII/);
  });
});
