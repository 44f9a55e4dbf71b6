import { describe, expect, it } from "vitest";
import { signalQuery } from "./signal";

describe("signalQuery", () => {
  it("sends the message as a hex literal, so quotes and backslashes in it are only text", () => {
    const payload = signalQuery({ code: 1045, sqlState: "28000", message: "Access denied for user 'a\\'; DROP'" });
    expect(payload[0]).toBe(0x03);
    const sql = payload.subarray(1).toString("latin1");
    expect(sql).toMatch(/^SIGNAL SQLSTATE '28000' SET MYSQL_ERRNO = 1045, MESSAGE_TEXT = X'[0-9a-f]+'$/);
    const hex = /X'([0-9a-f]+)'/.exec(sql)![1]!;
    expect(Buffer.from(hex, "hex").toString("utf8")).toBe("Access denied for user 'a\\'; DROP'");
  });

  it("refuses what SIGNAL cannot raise", () => {
    expect(() => signalQuery({ code: 1045, sqlState: "00000", message: "x" })).toThrow(RangeError);
    expect(() => signalQuery({ code: 1045, sqlState: "2800'", message: "x" })).toThrow(RangeError);
    expect(() => signalQuery({ code: 0, sqlState: "HY000", message: "x" })).toThrow(RangeError);
  });
});
