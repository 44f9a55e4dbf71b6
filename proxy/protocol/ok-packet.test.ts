import { describe, expect, it } from "vitest";
import { Capability, ServerStatus } from "./constants";
import { decodeEof, decodeOk, encodeEof, encodeOkPacket, isTerminator } from "./ok-packet";
import { decodeSessionState, encodeSessionState } from "./session-track";

const TRACK = Capability.SESSION_TRACK | Capability.PROTOCOL_41;

describe("OK packets", () => {
  it("decodes the OK MariaDB 10.11 sent for SET SESSION session_track_* (captured from a real server)", () => {
    const payload = Buffer.from(
      "00000002400000009f00181473657373696f6e5f747261636b5f736368656d61024f4e00211e73657373696f6e5f747261636b5f73797374656d5f7661726961626c6573012a" +
        "002f1e73657373696f6e5f747261636b5f7472616e73616374696f6e5f696e666f0f434841524143544552495354494353001e1a73657373696f6e5f747261636b5f73746174655f6368616e6765024f4e" +
        "0201310509085f5f5f5f5f5f5f5f040100",
      "hex",
    );
    const ok = decodeOk(payload, TRACK);
    expect(ok.status).toBe(ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED);
    expect(ok.sessionState).toEqual([
      { type: "system-variable", name: "session_track_schema", value: "ON" },
      { type: "system-variable", name: "session_track_system_variables", value: "*" },
      { type: "system-variable", name: "session_track_transaction_info", value: "CHARACTERISTICS" },
      { type: "system-variable", name: "session_track_state_change", value: "ON" },
      { type: "state-change", changed: true },
      { type: "transaction-state", state: "________" },
      { type: "transaction-characteristics", sql: "" },
    ]);
  });

  it("decodes SET time_zone's OK (captured) and ignores session state without CLIENT_SESSION_TRACK", () => {
    const payload = Buffer.from("00000002400000001600110974696d655f7a6f6e65062b30323a3030020131", "hex");
    expect(decodeOk(payload, TRACK).sessionState).toEqual([
      { type: "system-variable", name: "time_zone", value: "+02:00" },
      { type: "state-change", changed: true },
    ]);
    expect(decodeOk(payload, Capability.PROTOCOL_41).sessionState).toEqual([]);
  });

  it("round-trips every entry type, big affected-row and insert-id counts, and info text", () => {
    const sessionState = [
      { type: "system-variable" as const, name: "sql_mode", value: "ANSI_QUOTES" },
      { type: "schema" as const, name: "shop" },
      { type: "state-change" as const, changed: true },
      { type: "gtids" as const, encoding: 0, gtids: "0-1-5" },
      { type: "transaction-characteristics" as const, sql: "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;" },
      { type: "transaction-state" as const, state: "T___W___" },
      { type: "unknown" as const, code: 9, data: Buffer.from([1, 2, 3]) },
    ];
    const payload = encodeOkPacket({ affectedRows: 2n ** 40n, lastInsertId: 18446744073709551615n, status: ServerStatus.IN_TRANS, warnings: 3, info: "Rows matched: 1", sessionState });
    const ok = decodeOk(payload, TRACK);
    expect(ok).toEqual({
      affectedRows: 2n ** 40n,
      lastInsertId: 18446744073709551615n,
      status: ServerStatus.IN_TRANS | ServerStatus.SESSION_STATE_CHANGED,
      warnings: 3,
      info: "Rows matched: 1",
      sessionState,
    });
    expect(decodeSessionState(encodeSessionState(sessionState))).toEqual(sessionState);
  });

  it("reads a bare OK (no info) and refuses a truncated one", () => {
    expect(decodeOk(encodeOkPacket({ status: ServerStatus.AUTOCOMMIT }), TRACK)).toMatchObject({ status: 2, info: "", sessionState: [] });
    expect(() => decodeOk(Buffer.from([0x00, 0x00, 0x00, 0x02]), TRACK)).toThrow(/ended early/);
    expect(() => decodeOk(Buffer.from([0x01, 0, 0, 0, 0, 0, 0]), TRACK)).toThrow(/not an OK/);
  });

  it("tells a result set's terminator from a row", () => {
    expect(decodeEof(encodeEof(ServerStatus.MORE_RESULTS_EXISTS, 1))).toEqual({ warnings: 1, status: ServerStatus.MORE_RESULTS_EXISTS });
    expect(isTerminator(0xfe, 5, false)).toBe(true);
    expect(isTerminator(0xfe, 9, false)).toBe(false); // a row whose first value is 8-byte length-encoded
    expect(isTerminator(0xfe, 40, true)).toBe(true); // an OK packet ending a result set
    expect(isTerminator(0xfe, 0xffffff, true)).toBe(false);
    expect(isTerminator(0x00, 5, true)).toBe(false);
  });
});
