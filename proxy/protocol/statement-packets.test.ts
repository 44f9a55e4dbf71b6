import { describe, expect, it } from "vitest";
import { Command, CursorType } from "./constants";
import { decodeColumnCount, decodePrepareOk, encodePrepareOk, encodeStatementCommand, executeFlagsOf, statementIdOf } from "./statement-packets";

describe("statement packets", () => {
  it("reads COM_STMT_PREPARE_OK", () => {
    const prepared = { statementId: 70000, columns: 3, params: 2, warnings: 1 };
    expect(decodePrepareOk(encodePrepareOk(prepared))).toEqual(prepared);
    expect(() => decodePrepareOk(Buffer.from([0xff, 1, 2]))).toThrow(/not a COM_STMT_PREPARE_OK/);
  });

  it("reads the statement id of statement commands and COM_STMT_EXECUTE's cursor flags", () => {
    const execute = encodeStatementCommand(Command.STMT_EXECUTE, 42, Buffer.from([CursorType.READ_ONLY, 1, 0, 0, 0]));
    expect(statementIdOf(execute)).toBe(42);
    expect(executeFlagsOf(execute)).toBe(CursorType.READ_ONLY);
    expect(statementIdOf(encodeStatementCommand(Command.STMT_CLOSE, 0xffffffff))).toBe(0xffffffff);
    expect(() => statementIdOf(Buffer.from([Command.QUERY, 1, 2, 3, 4]))).toThrow(/not a statement command/);
    expect(() => statementIdOf(Buffer.from([Command.STMT_RESET, 1]))).toThrow(/ended early/);
  });

  it("reads a column count, with MariaDB's metadata-follows flag when metadata caching is on", () => {
    expect(decodeColumnCount(Buffer.from([3]), false)).toEqual({ columns: 3, metadataFollows: true });
    expect(decodeColumnCount(Buffer.from([3, 0]), true)).toEqual({ columns: 3, metadataFollows: false });
    expect(decodeColumnCount(Buffer.from([0xfc, 0x2c, 0x01, 1]), true)).toEqual({ columns: 300, metadataFollows: true });
  });
});
