import { describe, expect, it } from "vitest";
import { Capability, Command, CursorType, ExtendedCapability, ServerStatus } from "../protocol/constants";
import { encodeError } from "../protocol/handshake";
import { encodeEof, encodeOkPacket } from "../protocol/ok-packet";
import { encodePrepareOk, encodeStatementCommand } from "../protocol/statement-packets";
import { ReplyFollower, type Reply } from "./reply-follower";

// Hand-built exchanges, packet by packet, in both result-set framings (EOF packets, and OK packets
// under CLIENT_DEPRECATE_EOF).

const BASE = Capability.PROTOCOL_41 | Capability.SESSION_TRACK | Capability.MULTI_RESULTS;
const AC = ServerStatus.AUTOCOMMIT;

function setup(options: { deprecateEof?: boolean; cacheMetadata?: boolean } = {}) {
  const replies: Reply[] = [];
  const follower = new ReplyFollower({
    capabilities: BASE | (options.deprecateEof ? Capability.DEPRECATE_EOF : 0),
    extendedCapabilities: options.cacheMetadata ? ExtendedCapability.CACHE_METADATA : 0,
    onReply: (r) => replies.push(r),
  });
  const packet = (payload: Buffer, sequenceId: number) => ({ sequenceId, length: payload.length, firstByte: payload[0], payload });
  const client = (payload: Buffer, sequenceId = 0) => follower.clientPacket(packet(payload, sequenceId));
  const server = (...payloads: Buffer[]) => payloads.forEach((p, i) => follower.serverPacket(packet(p, i + 1)));
  const query = (sql: string) => client(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql)]));
  const end = (status: number) => (options.deprecateEof ? encodeOkPacket({ header: 0xfe, status }) : encodeEof(status));
  return { follower, replies, client, server, query, end };
}

const column = Buffer.from("\x03def\x00\x00\x00\x01a\x00\x0c\x3f\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00");
const row = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);

describe.each([false, true])("ReplyFollower (deprecate EOF: %s)", (deprecateEof) => {
  it("follows a text result set and a multi-statement query with several results", () => {
    const t = setup({ deprecateEof });
    t.query("SELECT 1");
    expect(t.follower.atSafePoint).toBe(false);
    t.server(Buffer.from([1]), column, ...(deprecateEof ? [] : [encodeEof(AC)]), row("1"), row("2"), t.end(AC));
    expect(t.follower.atSafePoint).toBe(true);
    expect(t.replies[0]!.results).toEqual([{ kind: "rows", columns: 1, rows: 2, status: AC, ok: deprecateEof ? expect.anything() : null }]);

    t.query("SET @a = 1; SELECT @a; BEGIN");
    const more = AC | ServerStatus.MORE_RESULTS_EXISTS;
    t.server(encodeOkPacket({ status: more }));
    t.server(Buffer.from([1]), column, ...(deprecateEof ? [] : [encodeEof(more)]), row("1"), t.end(more));
    expect(t.follower.inFlight).toBe(1);
    t.server(encodeOkPacket({ status: AC | ServerStatus.IN_TRANS }));
    expect(t.follower.inFlight).toBe(0);
    expect(t.replies[1]!.results.map((r) => r.kind)).toEqual(["ok", "rows", "ok"]);
    expect(t.follower.lastStatus).toBe(AC | ServerStatus.IN_TRANS);
  });

  it("ends a multi-statement reply at the first error", () => {
    const t = setup({ deprecateEof });
    t.query("SELECT 1; SELECT nope; SELECT 3");
    t.server(Buffer.from([1]), column, ...(deprecateEof ? [] : [encodeEof(AC | 8)]), row("1"), t.end(AC | 8));
    t.server(encodeError(1054, "42S22", "Unknown column 'nope'"));
    expect(t.follower.atSafePoint).toBe(true);
    expect(t.replies[0]!.error).toMatchObject({ code: 1054, sqlState: "42S22" });
  });

  it("follows a prepare with parameters and columns, and an execute of it", () => {
    const t = setup({ deprecateEof });
    t.client(Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from("SELECT ?, ?")]));
    t.server(encodePrepareOk({ statementId: 5, columns: 2, params: 2, warnings: 0 }), column, column, ...(deprecateEof ? [] : [encodeEof(AC)]), column, column);
    expect(t.follower.inFlight).toBe(deprecateEof ? 0 : 1);
    if (!deprecateEof) t.server(encodeEof(AC));
    expect(t.replies[0]!.prepared).toEqual({ statementId: 5, columns: 2, params: 2, warnings: 0 });
    t.client(encodeStatementCommand(Command.STMT_EXECUTE, 5, Buffer.from([0, 1, 0, 0, 0])));
    t.server(Buffer.from([2]), column, column, ...(deprecateEof ? [] : [encodeEof(AC)]), Buffer.from([0, 0, 1, 2]), t.end(AC));
    expect(t.replies[1]).toMatchObject({ command: { code: Command.STMT_EXECUTE, statementId: 5, cursor: false }, cursorOpened: false });
    expect(t.follower.atSafePoint).toBe(true);
  });

  it("knows a cursor is open from the execute's status until the fetch that sends the last row", () => {
    const t = setup({ deprecateEof });
    t.client(encodeStatementCommand(Command.STMT_EXECUTE, 3, Buffer.from([CursorType.READ_ONLY, 1, 0, 0, 0])));
    const cursor = AC | ServerStatus.CURSOR_EXISTS;
    t.server(Buffer.from([1]), column, deprecateEof ? t.end(cursor) : encodeEof(cursor));
    expect(t.follower.inFlight).toBe(0);
    expect([...t.follower.cursors]).toEqual([3]);
    expect(t.follower.atSafePoint).toBe(false);
    const fetch = encodeStatementCommand(Command.STMT_FETCH, 3, Buffer.from([1, 0, 0, 0]));
    t.client(fetch);
    t.server(Buffer.from([0, 0, 1]), t.end(cursor));
    expect(t.follower.cursors.size).toBe(1);
    t.client(fetch);
    t.server(t.end(cursor | ServerStatus.LAST_ROW_SENT));
    expect(t.follower.cursors.size).toBe(0);
    expect(t.follower.atSafePoint).toBe(true);
  });
});

describe("ReplyFollower", () => {
  it("resolves MariaDB's pipelined PREPARE + EXECUTE(-1) to the new statement id", () => {
    const t = setup({ deprecateEof: true });
    t.client(Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from("DO 1")]));
    t.client(encodeStatementCommand(Command.STMT_EXECUTE, 0xffffffff, Buffer.from([0, 1, 0, 0, 0])));
    expect(t.follower.inFlight).toBe(2);
    t.server(encodePrepareOk({ statementId: 9, columns: 0, params: 0, warnings: 0 }));
    t.server(encodeOkPacket({ status: AC }));
    expect(t.replies.map((r) => r.command.statementId)).toEqual([undefined, 9]);
    expect(t.follower.atSafePoint).toBe(true);
  });

  it("holds long data until the statement is executed or reset; COM_STMT_CLOSE has no reply", () => {
    const t = setup();
    t.client(encodeStatementCommand(Command.STMT_SEND_LONG_DATA, 4, Buffer.from([0, 0, 0x41])));
    expect(t.follower.inFlight).toBe(0);
    expect(t.follower.atSafePoint).toBe(false);
    t.client(encodeStatementCommand(Command.STMT_RESET, 4));
    t.server(encodeOkPacket({ status: AC }));
    expect(t.follower.atSafePoint).toBe(true);
    t.client(encodeStatementCommand(Command.STMT_SEND_LONG_DATA, 4, Buffer.from([0, 0, 0x41])));
    t.client(encodeStatementCommand(Command.STMT_CLOSE, 4));
    expect(t.follower.atSafePoint).toBe(true);
    expect(t.replies.map((r) => r.command.code)).toEqual([Command.STMT_SEND_LONG_DATA, Command.STMT_RESET, Command.STMT_SEND_LONG_DATA, Command.STMT_CLOSE]);
  });

  it("lets LOAD DATA LOCAL's file through and waits for the OK after the empty packet", () => {
    const t = setup();
    t.query("LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t");
    t.server(Buffer.from("\xfbx.csv", "latin1"));
    t.client(Buffer.from("1,2\n3,4\n"), 2);
    t.client(Buffer.alloc(0), 3);
    expect(t.follower.inFlight).toBe(1);
    t.server(encodeOkPacket({ status: AC, affectedRows: 2n }));
    expect(t.replies[0]).toMatchObject({ localInfile: true, error: null });
    expect(t.follower.atSafePoint).toBe(true);
  });

  it("passes over MariaDB's progress reports in the middle of a reply", () => {
    const t = setup();
    t.query("ALTER TABLE t ADD COLUMN c INT");
    const progress = Buffer.from([0xff, 0xff, 0xff, 1, 1, 2, 0x10, 0x27, 0, 5]); // stage 1 of 2, 10.000 %
    t.server(progress, progress);
    expect(t.follower.inFlight).toBe(1);
    t.server(encodeOkPacket({ status: AC }));
    expect(t.replies[0]!.error).toBeNull();
    expect(t.follower.atSafePoint).toBe(true);
  });

  it("skips metadata the client has cached (MariaDB CACHE_METADATA)", () => {
    const t = setup({ deprecateEof: true, cacheMetadata: true });
    t.client(encodeStatementCommand(Command.STMT_EXECUTE, 1, Buffer.from([0, 1, 0, 0, 0])));
    t.server(Buffer.from([2, 0]), Buffer.from([0, 0, 1, 2]), encodeOkPacket({ header: 0xfe, status: AC }));
    expect(t.replies[0]!.results).toMatchObject([{ kind: "rows", columns: 2, rows: 1 }]);
  });

  it("treats the client's packets during COM_CHANGE_USER as authentication, until OK or ERR", () => {
    const t = setup();
    t.client(Buffer.concat([Buffer.from([Command.CHANGE_USER]), Buffer.from("bob\0\0\0")]));
    t.server(Buffer.concat([Buffer.from("\xfemysql_native_password\0", "latin1"), Buffer.alloc(21, 0x31)]));
    t.client(Buffer.alloc(20, 7), 3);
    expect(t.follower.inFlight).toBe(1);
    t.server(encodeOkPacket({ status: AC }));
    expect(t.follower.atSafePoint).toBe(true);
    expect(t.follower.lost).toBeNull();
  });

  it("answers single-packet commands and reads the status of an EOF-style reply", () => {
    const t = setup();
    t.client(Buffer.from([Command.PING]));
    t.server(encodeOkPacket({ status: AC | ServerStatus.IN_TRANS }));
    t.client(Buffer.from([Command.STATISTICS]));
    t.server(Buffer.from("Uptime: 5  Threads: 1"));
    expect(t.replies.map((r) => r.status)).toEqual([AC | ServerStatus.IN_TRANS, null]);
    expect(t.follower.atSafePoint).toBe(true);
  });

  it("loses track (never safe again) on a command it cannot follow or a packet nobody asked for", () => {
    const a = setup();
    a.client(Buffer.from([Command.BINLOG_DUMP, 0, 0, 0, 0]));
    expect(a.follower.lost).toMatch(/not followed/);
    expect(a.follower.atSafePoint).toBe(false);
    const b = setup();
    b.server(encodeOkPacket({ status: AC }));
    expect(b.follower.lost).toMatch(/no command asked for/);
    const c = setup();
    c.client(Buffer.from([Command.QUERY, 0x41]), 4);
    expect(c.follower.lost).toMatch(/sequence id 4/);
  });
});
