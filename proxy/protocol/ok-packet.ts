import { BufferReader, lenencInt, MalformedPacketError } from "./buffer-reader";
import { Capability as Capabilities, MAX_PAYLOAD as MAX_PAYLOAD_SIZE, ServerStatus as StatusFlags } from "./constants";
import { decodeSessionState, encodeSessionState, type SessionStateChange } from "./session-track";

// The product runs TypeScript through tsx, which turns imported bindings into getters: the follower's hot
// path reads module-local copies of them (about a fifth of its time per query otherwise).
const Capability = Capabilities;
const MAX_PAYLOAD = MAX_PAYLOAD_SIZE;
const ServerStatus = StatusFlags;

// The packets that end a reply: OK (0x00, or 0xFE ending a result set when CLIENT_DEPRECATE_EOF is on),
// EOF (0xFE, short) and ERR (0xFF, decoded by handshake.ts's decodeError). The proxy reads their status
// flags and, from OK packets, the session-tracking block.

export interface OkPacket {
  affectedRows: bigint;
  lastInsertId: bigint;
  status: number;
  warnings: number;
  info: string;
  /** Empty unless the status has SERVER_SESSION_STATE_CHANGED (and the client CLIENT_SESSION_TRACK). */
  sessionState: SessionStateChange[];
}

export interface EofPacket {
  warnings: number;
  status: number;
}

/**
 * Whether a packet starting with 0xFE is a result set's terminator (EOF, or OK with CLIENT_DEPRECATE_EOF)
 * rather than a row: a row can only start with 0xFE when its first value's length needs 8 bytes, which
 * makes the packet at least 16 MiB long, i.e. a packet of maximal length followed by more.
 */
export function isTerminator(firstByte: number | undefined, payloadLength: number, deprecateEof: boolean): boolean {
  if (firstByte !== 0xfe) return false;
  return deprecateEof ? payloadLength < MAX_PAYLOAD : payloadLength < 9;
}

/**
 * MariaDB writes `info` length-encoded whenever it writes it (net_send_ok), with or without
 * CLIENT_SESSION_TRACK, and leaves it out when it is empty and nothing else follows.
 */
export function decodeOk(payload: Buffer, capabilities: number): OkPacket {
  const r = new BufferReader(payload);
  const header = r.u8();
  if (header !== 0x00 && header !== 0xfe) throw new MalformedPacketError(`not an OK packet (0x${header.toString(16)})`);
  const affectedRows = r.lenencBig();
  const lastInsertId = r.lenencBig();
  const status = r.u16();
  const warnings = r.u16();
  let info = "";
  let sessionState: SessionStateChange[] = [];
  if (r.remaining > 0) info = r.lenencBytes().toString("utf8");
  if ((capabilities & Capability.SESSION_TRACK) !== 0 && (status & ServerStatus.SESSION_STATE_CHANGED) !== 0 && r.remaining > 0) {
    sessionState = decodeSessionState(r.lenencBytes());
  }
  return { affectedRows, lastInsertId, status, warnings, info, sessionState };
}

export function decodeEof(payload: Buffer): EofPacket {
  const r = new BufferReader(payload);
  if (r.u8() !== 0xfe) throw new MalformedPacketError("not an EOF packet");
  // A 4.0-era EOF is the single byte; MariaDB always sends warnings and status.
  if (r.remaining < 4) return { warnings: 0, status: 0 };
  const warnings = r.u16();
  return { warnings, status: r.u16() };
}

export interface OkFields {
  affectedRows?: bigint;
  lastInsertId?: bigint;
  status: number;
  warnings?: number;
  info?: string;
  sessionState?: SessionStateChange[];
  /** 0xFE for the OK that ends a result set under CLIENT_DEPRECATE_EOF. */
  header?: 0x00 | 0xfe;
}

function lenencBig(n: bigint): Buffer {
  if (n < 0xfbn) return Buffer.from([Number(n)]);
  if (n <= 0xffffffn) return lenencInt(Number(n));
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(n, 1);
  return b;
}

/** An OK packet as MariaDB writes it (SESSION_STATE_CHANGED is set when there is session state). */
export function encodeOkPacket(f: OkFields): Buffer {
  const state = f.sessionState?.length ? encodeSessionState(f.sessionState) : null;
  const status = state ? f.status | ServerStatus.SESSION_STATE_CHANGED : f.status;
  const fixed = Buffer.alloc(4);
  fixed.writeUInt16LE(status, 0);
  fixed.writeUInt16LE(f.warnings ?? 0, 2);
  const parts = [Buffer.from([f.header ?? 0x00]), lenencBig(f.affectedRows ?? 0n), lenencBig(f.lastInsertId ?? 0n), fixed];
  const info = Buffer.from(f.info ?? "", "utf8");
  if (state || info.length > 0) parts.push(lenencInt(info.length), info);
  if (state) parts.push(lenencInt(state.length), state);
  return Buffer.concat(parts);
}

export function encodeEof(status: number, warnings = 0): Buffer {
  const b = Buffer.alloc(5);
  b[0] = 0xfe;
  b.writeUInt16LE(warnings, 1);
  b.writeUInt16LE(status, 3);
  return b;
}
