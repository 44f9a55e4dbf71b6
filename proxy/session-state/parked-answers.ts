import { Capability, Command, ExtendedCapability } from "../protocol/constants";
import { encodeOkPacket } from "../protocol/ok-packet";
import { encodePacket } from "../protocol/packet";
import { encodeTextResultSet, type ColumnDefinition } from "../protocol/result-set";

// What the proxy answers itself on a parked session, so that connection pools checking their idle
// connections wake nothing: COM_PING, and the usual validation queries `SELECT 1`, `/* ping */ SELECT 1`
// and `DO 1`. The answers are the server's own, byte for byte where it matters to a client (column name,
// type, flags), with the session's last status flags. Anything else returns null: wake and relay.

/** `SELECT 1`'s column as MariaDB 10.11 describes it: INT(1), binary, NOT NULL | BINARY. */
const ONE: ColumnDefinition = { name: "1", type: 0x03, charset: 63, length: 1, flags: 0x0001 | 0x0080, decimals: 0 };

/** The query with comments, surrounding space and a trailing semicolon taken off, upper case. */
function normalize(sql: string): string {
  return sql
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/;\s*$/, "")
    .trim()
    .replace(/\s+/g, " ")
    .toUpperCase();
}

/**
 * Whether a COM_QUERY can be "SELECT 1" or "DO 1" (with comments and blanks): it has a comment, or at most
 * seven bytes that are not blanks or semicolons. Every statement of a multiplexed session that waits for a
 * connection comes here first: most are told apart without decoding them.
 */
function mayBeValidation(command: Buffer): boolean {
  let significant = 0;
  for (let i = 1; i < command.length; i++) {
    const c = command[i]!;
    if (c === 0x2f) return true; // a comment may hide anything
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x3b) continue;
    if (++significant > 7) return false;
  }
  return true;
}

/**
 * The reply (framed packets) to a command on a parked session, or null when the compute must answer.
 * `status` is the session's last status flags; the capabilities are the session's.
 */
export function parkedAnswer(command: Buffer, status: number | null, capabilities: number, extendedCapabilities: number): Buffer | null {
  if (status === null) return null;
  const frame = (payloads: Buffer[]) => Buffer.concat(payloads.map((p, i) => encodePacket(p, i + 1)));
  if (command[0] === Command.PING) return frame([encodeOkPacket({ status })]);
  if (command[0] !== Command.QUERY || !mayBeValidation(command)) return null;
  const sql = normalize(command.subarray(1).toString("utf8"));
  if (sql === "DO 1") return frame([encodeOkPacket({ status })]);
  if (sql === "SELECT 1") {
    const session = {
      deprecateEof: (capabilities & Capability.DEPRECATE_EOF) !== 0,
      extendedTypeInfo: (extendedCapabilities & ExtendedCapability.EXTENDED_TYPE_INFO) !== 0,
    };
    return frame(encodeTextResultSet([ONE], [["1"]], status, session));
  }
  return null;
}
