import { BufferReader, MalformedPacketError } from "./buffer-reader";
import { Command as CommandCodes } from "./constants";

// The product runs TypeScript through tsx, which turns imported bindings into getters: the follower's hot
// path reads module-local copies of them (about a fifth of its time per query otherwise).
const Command = CommandCodes;

// The binary-protocol packets the proxy reads: the reply to COM_STMT_PREPARE, and the statement id (and
// for COM_STMT_EXECUTE the cursor flags) of the client's statement commands.

export interface PrepareOk {
  statementId: number;
  columns: number;
  params: number;
  warnings: number;
}

/** COM_STMT_PREPARE_OK: 0x00, stmt id u32, columns u16, params u16, filler, warnings u16. */
export function decodePrepareOk(payload: Buffer): PrepareOk {
  const r = new BufferReader(payload);
  if (r.u8() !== 0x00) throw new MalformedPacketError("not a COM_STMT_PREPARE_OK packet");
  const statementId = r.u32();
  const columns = r.u16();
  const params = r.u16();
  let warnings = 0;
  if (r.remaining >= 3) {
    r.skip(1);
    warnings = r.u16();
  }
  return { statementId, columns, params, warnings };
}

export function encodePrepareOk(p: PrepareOk): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x00;
  b.writeUInt32LE(p.statementId, 1);
  b.writeUInt16LE(p.columns, 5);
  b.writeUInt16LE(p.params, 7);
  b[9] = 0;
  b.writeUInt16LE(p.warnings, 10);
  return b;
}

export const STATEMENT_COMMANDS: ReadonlySet<number> = new Set([
  Command.STMT_EXECUTE,
  Command.STMT_SEND_LONG_DATA,
  Command.STMT_CLOSE,
  Command.STMT_RESET,
  Command.STMT_FETCH,
  Command.STMT_BULK_EXECUTE,
]);

/** MariaDB's "the statement prepared last" id, which lets a client pipeline PREPARE and EXECUTE. */
export const LAST_PREPARED_STATEMENT = 0xffffffff;

/** The statement id a statement command names (the 4 bytes after the command byte). */
export function statementIdOf(payload: Buffer): number {
  if (!STATEMENT_COMMANDS.has(payload[0] ?? -1)) throw new MalformedPacketError("not a statement command");
  const r = new BufferReader(payload);
  r.skip(1);
  return r.u32();
}

/** COM_STMT_EXECUTE's flags byte (CursorType bits). */
export function executeFlagsOf(payload: Buffer): number {
  if (payload[0] !== Command.STMT_EXECUTE) throw new MalformedPacketError("not COM_STMT_EXECUTE");
  const r = new BufferReader(payload);
  r.skip(5);
  return r.u8();
}

export function encodeStatementCommand(command: number, statementId: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = command;
  head.writeUInt32LE(statementId, 1);
  return Buffer.concat([head, rest]);
}

/**
 * A result set's first packet: the column count, then (with MariaDB's CACHE_METADATA capability) whether
 * column definitions follow; when they don't, the client reuses the ones it has for that statement.
 */
export function decodeColumnCount(payload: Buffer, cacheMetadata: boolean): { columns: number; metadataFollows: boolean } {
  const r = new BufferReader(payload);
  const columns = r.lenenc();
  const metadataFollows = cacheMetadata && r.remaining > 0 ? r.u8() !== 0 : true;
  return { columns, metadataFollows };
}
