import { MalformedPacketError } from "../protocol/buffer-reader";
import { Capability, Command as CommandCodes, CursorType, ExtendedCapability, ServerStatus as StatusFlags } from "../protocol/constants";
import { decodeError, type ServerError } from "../protocol/handshake";
import * as okPackets from "../protocol/ok-packet";
import type { OkPacket } from "../protocol/ok-packet";
import type { FramedPacket } from "../protocol/packet-framer";
import {
  decodeColumnCount,
  decodePrepareOk,
  executeFlagsOf,
  LAST_PREPARED_STATEMENT,
  STATEMENT_COMMANDS,
  statementIdOf,
  type PrepareOk,
} from "../protocol/statement-packets";

// The product runs TypeScript through tsx, which turns imported bindings into getters: the follower's hot
// path reads module-local copies of them (about a fifth of its time per query otherwise).
const Command = CommandCodes;
const ServerStatus = StatusFlags;
const { decodeEof, decodeOk, isTerminator } = okPackets;

// Follows one session's command/reply exchange packet by packet: which reply belongs to which command,
// where each reply ends, and the status flags and session-tracking fields of the OK and EOF packets that
// end them. It never changes a byte; it is told the packets both ways (in the order the proxy relays
// them) and reports each finished reply. Commands may be pipelined (MariaDB Connector/Node sends
// PREPARE and EXECUTE together): replies come back in order, so a queue pairs them.
//
// Anything it cannot follow (an unknown or replication command, a malformed packet, a packet no command
// asked for) makes it `lost`: from then on the session is never at a safe point.

export interface CommandInfo {
  code: number;
  /** COM_QUERY's and COM_STMT_PREPARE's SQL text. */
  sql?: string;
  /** The statement a statement command names (MariaDB's "last prepared" id is resolved to the real one). */
  statementId?: number;
  /** COM_STMT_EXECUTE asked for a cursor. */
  cursor?: boolean;
  /** COM_INIT_DB's database. */
  schema?: string;
  /** COM_CHANGE_USER's packet, for the caller to decode with the session's capabilities. */
  payload?: Buffer;
  /** COM_SET_OPTION's option: 0 turns multi-statements on, 1 off. */
  option?: number;
}

export type ResultSummary =
  | { kind: "ok"; ok: OkPacket }
  /** A result set; `ok` is its terminating OK under CLIENT_DEPRECATE_EOF (which may carry session state). */
  | { kind: "rows"; columns: number; rows: number; status: number; ok: OkPacket | null };

export interface Reply {
  command: CommandInfo;
  /** Each result of the reply in order (a multi-statement query or a CALL has several). */
  results: ResultSummary[];
  error: ServerError | null;
  prepared: PrepareOk | null;
  /** The reply ended with SERVER_STATUS_CURSOR_EXISTS: a cursor is open on command.statementId. */
  cursorOpened: boolean;
  /** Status flags of the last OK or EOF of the reply (null if it had none). */
  status: number | null;
  /** The file content of LOAD DATA LOCAL went through this reply. */
  localInfile: boolean;
}

type ReplyKind = "none" | "single" | "results" | "prepare" | "fetch" | "field-list" | "change-user";

type Phase = "first" | "columns" | "columns-eof" | "rows" | "infile" | "params" | "params-eof" | "prepare-columns" | "prepare-columns-eof";

interface Pending {
  kind: ReplyKind;
  reply: Reply;
  phase: Phase;
  remaining: number;
  columns: number;
  rows: number;
  prepared: PrepareOk | null;
}

const REPLY_KIND: Record<number, ReplyKind> = {
  [Command.QUIT]: "none",
  [Command.STMT_CLOSE]: "none",
  [Command.STMT_SEND_LONG_DATA]: "none",
  [Command.QUERY]: "results",
  [Command.STMT_EXECUTE]: "results",
  [Command.STMT_BULK_EXECUTE]: "results",
  [Command.PROCESS_INFO]: "results",
  [Command.STMT_PREPARE]: "prepare",
  [Command.STMT_FETCH]: "fetch",
  [Command.FIELD_LIST]: "field-list",
  [Command.CHANGE_USER]: "change-user",
  [Command.INIT_DB]: "single",
  [Command.PING]: "single",
  [Command.STMT_RESET]: "single",
  [Command.RESET_CONNECTION]: "single",
  [Command.SET_OPTION]: "single",
  [Command.STATISTICS]: "single",
  [Command.PROCESS_KILL]: "single",
  [Command.REFRESH]: "single",
  [Command.DEBUG]: "single",
  [Command.CREATE_DB]: "single",
  [Command.DROP_DB]: "single",
  [Command.SHUTDOWN]: "single",
  [Command.SLEEP]: "single",
  [Command.TIME]: "single",
};

/**
 * MariaDB's progress report (to clients with the PROGRESS capability, e.g. the mariadb CLI during ALTER
 * TABLE or LOAD DATA): an ERR-shaped packet with error code 0xFFFF, in the middle of a reply.
 */
function isProgressReport(payload: Buffer | null): boolean {
  return payload !== null && payload.length >= 3 && payload.readUInt16LE(1) === 0xffff;
}

export interface ReplyFollowerOptions {
  /** The capabilities the session's compute connection was logged in with. */
  capabilities: number;
  extendedCapabilities?: number;
  onReply: (reply: Reply) => void;
}

export class ReplyFollower {
  private readonly queue: Pending[] = [];
  private readonly deprecateEof: boolean;
  private readonly cacheMetadata: boolean;
  private lastPrepared: number | null = null;
  /** Statements with an open cursor. */
  readonly cursors = new Set<number>();
  /** Statements that were sent long data not yet consumed by an execute or reset. */
  readonly longData = new Set<number>();
  /** Status flags of the latest OK or EOF the compute sent (null before any). */
  lastStatus: number | null = null;
  /** Why following stopped, or null while the follower keeps up. */
  lost: string | null = null;
  /** Replies finished so far. */
  finished = 0;

  constructor(private readonly options: ReplyFollowerOptions) {
    this.deprecateEof = (options.capabilities & Capability.DEPRECATE_EOF) !== 0;
    this.cacheMetadata = ((options.extendedCapabilities ?? 0) & ExtendedCapability.CACHE_METADATA) !== 0;
  }

  /** Commands sent and not yet fully answered. */
  get inFlight(): number {
    return this.queue.length;
  }

  /** No reply in flight, no cursor open, no long data pending, and nothing lost track of. */
  get atSafePoint(): boolean {
    return this.lost === null && this.queue.length === 0 && this.cursors.size === 0 && this.longData.size === 0;
  }

  /**
   * What the next packet from the compute is, told before it is fed (for a relay that rewrites the few it
   * must): an OK packet (which may carry session state), a COM_STMT_PREPARE_OK, or anything else (null).
   */
  nextServerPacket(firstByte: number | undefined, length: number): "ok" | "prepare-ok" | null {
    const head = this.queue[0];
    if (!head || this.lost) return null;
    switch (head.kind) {
      case "single":
        return firstByte === 0x00 && length >= 7 && head.reply.command.code !== Command.STATISTICS ? "ok" : null;
      case "change-user":
        return firstByte === 0x00 ? "ok" : null;
      case "prepare":
        return head.phase === "first" && firstByte === 0x00 ? "prepare-ok" : null;
      case "fetch":
      case "field-list":
        return this.deprecateEof && isTerminator(firstByte, length, true) ? "ok" : null;
      case "results":
        if (head.phase === "first" || head.phase === "infile") return firstByte === 0x00 ? "ok" : null;
        return head.phase === "rows" && this.deprecateEof && isTerminator(firstByte, length, true) ? "ok" : null;
      default:
        return null;
    }
  }

  /** A packet the client sent towards the compute. */
  clientPacket(packet: FramedPacket): void {
    if (this.lost) return;
    try {
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === "change-user") return; // authentication data of the change (the server answers it)
      const head = this.queue[0];
      if (head?.phase === "infile") {
        head.reply.localInfile = true;
        if (packet.length === 0) head.phase = "first"; // the empty packet ends the file; OK or ERR follows
        return;
      }
      this.command(packet);
    } catch (error) {
      this.loseTrack(error);
    }
  }

  /** A packet the compute sent towards the client. */
  serverPacket(packet: FramedPacket): void {
    if (this.lost) return;
    try {
      if (packet.firstByte === 0xff && isProgressReport(packet.payload)) return;
      const head = this.queue[0];
      if (!head) throw new Error(`the compute sent a packet (0x${(packet.firstByte ?? 0).toString(16)}) no command asked for`);
      this.step(head, packet);
    } catch (error) {
      this.loseTrack(error);
    }
  }

  private loseTrack(error: unknown) {
    this.lost = error instanceof Error ? error.message : String(error);
  }

  private command(packet: FramedPacket) {
    if (packet.sequenceId !== 0) throw new Error(`a client packet with sequence id ${packet.sequenceId} where a command was expected`);
    const code = packet.firstByte;
    const kind = code === undefined ? undefined : REPLY_KIND[code];
    if (code === undefined || kind === undefined) throw new Error(`command 0x${(code ?? 0).toString(16)} is not followed`);
    const payload = packet.payload;
    if (!payload && code !== Command.QUERY) throw new MalformedPacketError(`command 0x${code.toString(16)} of ${packet.length} bytes`);
    const info: CommandInfo = { code };
    if (payload) {
      if (code === Command.QUERY || code === Command.STMT_PREPARE) info.sql = payload.subarray(1).toString("utf8");
      else if (code === Command.INIT_DB) info.schema = payload.subarray(1).toString("utf8");
      else if (code === Command.CHANGE_USER) info.payload = Buffer.from(payload);
      else if (code === Command.SET_OPTION && payload.length >= 3) info.option = payload.readUInt16LE(1);
      else if (STATEMENT_COMMANDS.has(code)) info.statementId = statementIdOf(payload);
      if (code === Command.STMT_EXECUTE) info.cursor = (executeFlagsOf(payload) & (CursorType.READ_ONLY | CursorType.FOR_UPDATE | CursorType.SCROLLABLE)) !== 0;
    }
    const reply: Reply = { command: info, results: [], error: null, prepared: null, cursorOpened: false, status: null, localInfile: false };
    this.queue.push({ kind, reply, phase: "first", remaining: 0, columns: 0, rows: 0, prepared: null });
    this.drainSilent();
  }

  /** Commands without a reply finish as soon as every earlier reply has. */
  private drainSilent() {
    while (this.queue[0]?.kind === "none") this.finish(this.queue[0]);
  }

  private resolveStatement(info: CommandInfo) {
    if (info.statementId === LAST_PREPARED_STATEMENT && this.lastPrepared !== null) info.statementId = this.lastPrepared;
  }

  private ok(payload: Buffer | null): OkPacket {
    if (!payload) throw new MalformedPacketError("an oversized OK packet");
    const ok = decodeOk(payload, this.options.capabilities);
    this.lastStatus = ok.status;
    return ok;
  }

  private eofStatus(payload: Buffer | null): number {
    if (!payload) throw new MalformedPacketError("an oversized EOF packet");
    const status = decodeEof(payload).status;
    this.lastStatus = status;
    return status;
  }

  private error(p: Pending, payload: Buffer | null) {
    p.reply.error = payload ? decodeError(payload) : { code: 0, sqlState: "HY000", message: "(oversized error packet)" };
    this.finish(p);
  }

  /** The terminator of a result set: EOF, or OK (0xFE) under CLIENT_DEPRECATE_EOF. */
  private terminator(payload: Buffer | null): { status: number; ok: OkPacket | null } {
    if (this.deprecateEof) {
      const ok = this.ok(payload);
      return { status: ok.status, ok };
    }
    return { status: this.eofStatus(payload), ok: null };
  }

  private step(p: Pending, packet: FramedPacket) {
    // The payload is sliced only where it is read: a row needs its first byte only.
    const first = packet.firstByte;
    switch (p.kind) {
      case "single":
        if (first === 0x00 && packet.length >= 7 && p.reply.command.code !== Command.STATISTICS) p.reply.status = this.ok(packet.payload).status;
        else if (first === 0xff && p.reply.command.code !== Command.STATISTICS) return this.error(p, packet.payload);
        else if (isTerminator(first, packet.length, false)) p.reply.status = this.eofStatus(packet.payload);
        return this.finish(p);
      case "change-user":
        if (first === 0x00) {
          const ok = this.ok(packet.payload);
          p.reply.results.push({ kind: "ok", ok });
          p.reply.status = ok.status;
          return this.finish(p);
        }
        if (first === 0xff) return this.error(p, packet.payload);
        return; // auth switch (0xFE) or more auth data (0x01): the client answers, the server goes on
      case "prepare":
        return this.stepPrepare(p, packet);
      case "fetch":
      case "field-list":
        if (first === 0xff) return this.error(p, packet.payload);
        if (isTerminator(first, packet.length, this.deprecateEof)) {
          const end = this.terminator(packet.payload);
          p.reply.status = end.status;
          p.reply.results.push({ kind: "rows", columns: 0, rows: p.rows, status: end.status, ok: end.ok });
          return this.finish(p);
        }
        p.rows++;
        return;
      case "results":
        return this.stepResults(p, packet);
      case "none":
        throw new Error("a reply to a command that has none");
    }
  }

  private stepResults(p: Pending, packet: FramedPacket) {
    const first = packet.firstByte;
    switch (p.phase) {
      case "first":
      case "infile": {
        if (first === 0x00) {
          const ok = this.ok(packet.payload);
          p.reply.results.push({ kind: "ok", ok });
          p.reply.status = ok.status;
          if ((ok.status & ServerStatus.MORE_RESULTS_EXISTS) === 0) this.finish(p);
          return;
        }
        if (first === 0xff) return this.error(p, packet.payload);
        if (first === 0xfb && p.reply.command.code === Command.QUERY) {
          p.phase = "infile"; // LOCAL INFILE request: the client sends the file, then an empty packet
          return;
        }
        const payload = packet.payload;
        if (!payload) throw new MalformedPacketError("an oversized column count");
        const { columns, metadataFollows } = decodeColumnCount(payload, this.cacheMetadata);
        p.columns = columns;
        p.rows = 0;
        p.remaining = columns;
        p.phase = metadataFollows && columns > 0 ? "columns" : this.afterColumns();
        return;
      }
      case "columns":
        if (--p.remaining === 0) p.phase = this.afterColumns();
        return;
      case "columns-eof": {
        if (first === 0xff) return this.error(p, packet.payload);
        if (!isTerminator(first, packet.length, false)) throw new Error("no EOF after the column definitions");
        const status = this.eofStatus(packet.payload);
        if ((status & ServerStatus.CURSOR_EXISTS) !== 0) return this.cursorOpened(p, status, null);
        p.phase = "rows";
        return;
      }
      case "rows": {
        if (first === 0xff) return this.error(p, packet.payload);
        if (!isTerminator(first, packet.length, this.deprecateEof)) {
          p.rows++;
          return;
        }
        const end = this.terminator(packet.payload);
        if ((end.status & ServerStatus.CURSOR_EXISTS) !== 0 && p.rows === 0 && p.reply.command.code === Command.STMT_EXECUTE) {
          return this.cursorOpened(p, end.status, end.ok);
        }
        p.reply.results.push({ kind: "rows", columns: p.columns, rows: p.rows, status: end.status, ok: end.ok });
        p.reply.status = end.status;
        if ((end.status & ServerStatus.MORE_RESULTS_EXISTS) !== 0) p.phase = "first";
        else this.finish(p);
        return;
      }
      default:
        throw new Error(`unexpected phase ${p.phase}`);
    }
  }

  private afterColumns(): Phase {
    return this.deprecateEof ? "rows" : "columns-eof";
  }

  private cursorOpened(p: Pending, status: number, ok: OkPacket | null) {
    p.reply.results.push({ kind: "rows", columns: p.columns, rows: 0, status, ok });
    p.reply.status = status;
    p.reply.cursorOpened = true;
    this.finish(p);
  }

  private stepPrepare(p: Pending, packet: FramedPacket) {
    const first = packet.firstByte;
    switch (p.phase) {
      case "first": {
        if (first === 0xff) return this.error(p, packet.payload);
        if (!packet.payload) throw new MalformedPacketError("an oversized prepare reply");
        p.prepared = decodePrepareOk(packet.payload);
        p.reply.prepared = p.prepared;
        return this.prepareNext(p, "first");
      }
      case "params":
      case "prepare-columns":
        if (--p.remaining === 0) return this.prepareNext(p, p.phase);
        return;
      case "params-eof":
      case "prepare-columns-eof":
        if (!isTerminator(first, packet.length, false)) throw new Error("no EOF after the prepared statement's definitions");
        this.eofStatus(packet.payload);
        return this.prepareNext(p, p.phase);
      default:
        throw new Error(`unexpected phase ${p.phase}`);
    }
  }

  /** params, [EOF], columns, [EOF]: each part only when it has definitions. */
  private prepareNext(p: Pending, done: Phase) {
    const prepared = p.prepared!;
    const order: Phase[] = ["first", "params", "params-eof", "prepare-columns", "prepare-columns-eof"];
    for (let i = order.indexOf(done) + 1; i < order.length; i++) {
      const phase = order[i]!;
      const count = phase.startsWith("params") ? prepared.params : prepared.columns;
      if (count === 0 || (phase.endsWith("-eof") && this.deprecateEof)) continue;
      p.phase = phase;
      p.remaining = count;
      return;
    }
    this.finish(p);
  }

  private finish(p: Pending) {
    if (this.queue[0] !== p) throw new Error("replies finished out of order");
    this.queue.shift();
    this.finished++;
    const reply = p.reply;
    const info = reply.command;
    this.resolveStatement(info);
    const id = info.statementId;
    switch (info.code) {
      case Command.STMT_PREPARE:
        if (reply.prepared) this.lastPrepared = reply.prepared.statementId;
        break;
      case Command.STMT_EXECUTE:
        if (id !== undefined) {
          this.longData.delete(id);
          if (reply.cursorOpened) this.cursors.add(id);
          else if (!reply.error) this.cursors.delete(id);
        }
        break;
      case Command.STMT_FETCH:
        if (id !== undefined && reply.status !== null) {
          const open = (reply.status & ServerStatus.CURSOR_EXISTS) !== 0 && (reply.status & ServerStatus.LAST_ROW_SENT) === 0;
          if (!open) this.cursors.delete(id);
        }
        break;
      case Command.STMT_SEND_LONG_DATA:
        if (id !== undefined) this.longData.add(id);
        break;
      case Command.STMT_CLOSE:
      case Command.STMT_RESET:
        if (id !== undefined && (info.code === Command.STMT_CLOSE || !reply.error)) {
          this.cursors.delete(id);
          this.longData.delete(id);
        }
        break;
      case Command.RESET_CONNECTION:
      case Command.CHANGE_USER:
        if (!reply.error) {
          this.cursors.clear();
          this.longData.clear();
          this.lastPrepared = null;
        }
        break;
    }
    this.options.onReply(reply);
    this.drainSilent();
  }
}
