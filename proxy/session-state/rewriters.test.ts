import { describe, expect, it } from "vitest";
import { Capability, Command, ServerStatus } from "../protocol/constants";
import { decodeOk, encodeOkPacket } from "../protocol/ok-packet";
import { encodePacket } from "../protocol/packet";
import { decodePrepareOk, encodePrepareOk, encodeStatementCommand } from "../protocol/statement-packets";
import { ServerRewriter } from "./server-rewriter";
import { SessionFollower } from "./session-follower";
import { ClientIdRewriter, StatementIds } from "./statement-ids";

// The two rewrites a followed session may need, fed as the network splits bytes: session-state blocks
// taken out for a client that did not ask for them (the follower still reads them), and statement ids
// translated both ways after a restore.

const CAPS = Capability.PROTOCOL_41 | Capability.SESSION_TRACK | Capability.MULTI_RESULTS;
const AC = ServerStatus.AUTOCOMMIT;

function follower() {
  return new SessionFollower({ capabilities: CAPS, user: "app", database: "main", status: AC });
}

const query = (sql: string) => encodePacket(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql)]), 0);

/** Feed `bytes` in pieces of `size`, collecting what the client gets. */
function through(rewriter: ServerRewriter, bytes: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) rewriter.push(bytes.subarray(i, i + size), (part) => out.push(Buffer.from(part)));
  return Buffer.concat(out);
}

describe("ServerRewriter", () => {
  it.each([1, 3, 7, 1000])("strips the session-state block for the client and keeps it for the follower (chunks of %i)", (size) => {
    const f = follower();
    const rewriter = new ServerRewriter(f, true, null);
    f.clientBytes(query("SET time_zone = '+01:00'"));
    const ok = encodeOkPacket({ status: AC, sessionState: [{ type: "system-variable", name: "time_zone", value: "+01:00" }] });
    const client = through(rewriter, encodePacket(ok, 1), size);
    const seen = decodeOk(client.subarray(4), CAPS);
    expect(seen.status & ServerStatus.SESSION_STATE_CHANGED).toBe(0);
    expect(seen.sessionState).toEqual([]);
    expect(client.readUIntLE(0, 3)).toBe(client.length - 4);
    expect(f.state.variables.get("time_zone")).toBe("+01:00");
  });

  it.each([1, 5, 1000])("takes the reply to the proxy's own setup out of the stream, then forwards the client's (chunks of %i)", (size) => {
    const f = follower();
    f.clientBytes(query("SET SESSION session_track_schema = ON"));
    const rewriter = new ServerRewriter(f, false, null, f.replies.finished + 1);
    f.clientBytes(query("SELECT 1"));
    const setupOk = encodePacket(encodeOkPacket({ status: AC }), 1);
    const clientOk = encodePacket(encodeOkPacket({ status: AC, info: "for the client" }), 1);
    expect(through(rewriter, Buffer.concat([setupOk, clientOk]), size)).toEqual(clientOk);
    expect(f.replies.finished).toBe(2);
    expect(rewriter.needed).toBe(false);
  });

  it("gives a new prepared statement an id the client has not used, and maps the client's ids back", () => {
    const ids = new StatementIds([1, 2]);
    ids.restored(1, 1);
    ids.restored(2, 2);
    const f = follower();
    const rewriter = new ServerRewriter(f, false, ids);
    f.clientBytes(encodePacket(Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from("SELECT 1")]), 0));
    const reply = through(rewriter, encodePacket(encodePrepareOk({ statementId: 3, columns: 0, params: 0, warnings: 0 }), 1), 5);
    const clientId = decodePrepareOk(reply.subarray(4)).statementId;
    expect(clientId).toBe(3);
    expect(f.state.prepared.has(3)).toBe(true);

    const mapper = new ClientIdRewriter(ids);
    const execute = encodePacket(encodeStatementCommand(Command.STMT_EXECUTE, 2, Buffer.from([0, 1, 0, 0, 0])), 0);
    const sent = mapper.rewrite(execute);
    expect(sent.readUInt32LE(5)).toBe(2);
    const close = encodePacket(encodeStatementCommand(Command.STMT_CLOSE, 3), 0);
    expect(mapper.rewrite(close).readUInt32LE(5)).toBe(3);
    expect(execute.readUInt32LE(5)).toBe(2); // the caller's bytes are not changed in place
    expect(ids.serverId(3)).toBe(0); // closed: unknown to the server from now on
  });

  it("maps ids after a restore that numbered the statements differently", () => {
    const ids = new StatementIds([5, 9]);
    ids.restored(5, 1);
    ids.restored(9, 2);
    const mapper = new ClientIdRewriter(ids);
    const two = Buffer.concat([
      encodePacket(encodeStatementCommand(Command.STMT_RESET, 9), 0),
      encodePacket(encodeStatementCommand(Command.STMT_EXECUTE, 5, Buffer.from([0, 1, 0, 0, 0])), 0),
    ]);
    const sent = mapper.rewrite(two);
    expect(sent.readUInt32LE(5)).toBe(2);
    expect(sent.readUInt32LE(9 + 5)).toBe(1);
  });
});
