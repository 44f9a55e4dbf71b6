import crypto from "node:crypto";
import { BufferReader, lenencInt, MalformedPacketError } from "./buffer-reader";
import { Capability } from "./constants";

// The connection phase of the protocol: the server's greeting (HandshakeV10), the client's
// HandshakeResponse41 (and the SSLRequest that may precede it), auth switch, OK and ERR packets.
// Capabilities are carried as two unsigned 32-bit halves: the standard flags and MariaDB's extended ones
// (sent in the last 4 filler bytes when the CLIENT_MYSQL bit is clear).

export interface Greeting {
  serverVersion: string;
  connectionId: number;
  /** 20 bytes of auth-plugin data (the scramble). */
  scramble: Buffer;
  capabilities: number;
  extendedCapabilities: number;
  collation: number;
  status: number;
  authPlugin: string;
}

export interface HandshakeResponse {
  capabilities: number;
  extendedCapabilities: number;
  maxPacketSize: number;
  collation: number;
  user: string;
  authResponse: Buffer;
  database: string | null;
  authPlugin: string | null;
  /** The connect attributes exactly as the client sent them (length-encoded block), to pass on. */
  connectAttributes: Buffer | null;
}

const has = (caps: number, flag: number) => (caps & flag) !== 0;

/** A scramble of 20 printable bytes without NUL, as MariaDB makes them. */
export function generateScramble(): Buffer {
  const bytes = crypto.randomBytes(20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 33 + (bytes[i]! % 94);
  return bytes;
}

export function encodeGreeting(g: Greeting): Buffer {
  const caps = g.capabilities >>> 0;
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 6 + 4);
  let o = 0;
  o = fixed.writeUInt32LE(g.connectionId >>> 0, o);
  g.scramble.copy(fixed, o, 0, 8);
  o += 8;
  fixed[o++] = 0;
  o = fixed.writeUInt16LE(caps & 0xffff, o);
  fixed[o++] = g.collation & 0xff;
  o = fixed.writeUInt16LE(g.status & 0xffff, o);
  o = fixed.writeUInt16LE(caps >>> 16, o);
  fixed[o++] = has(caps, Capability.PLUGIN_AUTH) ? g.scramble.length + 1 : 0;
  o += 6;
  fixed.writeUInt32LE(has(caps, Capability.LONG_PASSWORD) ? 0 : g.extendedCapabilities >>> 0, o);
  return Buffer.concat([
    Buffer.from([10]),
    Buffer.from(g.serverVersion + "\0", "latin1"),
    fixed,
    has(caps, Capability.SECURE_CONNECTION) ? Buffer.concat([g.scramble.subarray(8), Buffer.from([0])]) : Buffer.alloc(0),
    has(caps, Capability.PLUGIN_AUTH) ? Buffer.from(g.authPlugin + "\0", "latin1") : Buffer.alloc(0),
  ]);
}

export function decodeGreeting(payload: Buffer): Greeting {
  const r = new BufferReader(payload);
  const protocol = r.u8();
  if (protocol !== 10) throw new MalformedPacketError(`unsupported protocol version ${protocol}`);
  const serverVersion = r.nulString().toString("latin1");
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  const collation = r.u8();
  const status = r.u16();
  capabilities = (capabilities | (r.u16() << 16)) >>> 0;
  const authDataLength = r.u8();
  r.skip(6);
  const extendedCapabilities = has(capabilities, Capability.LONG_PASSWORD) ? (r.skip(4), 0) : r.u32();
  let part2: Buffer = Buffer.alloc(0);
  if (has(capabilities, Capability.SECURE_CONNECTION)) {
    part2 = r.bytes(Math.max(13, authDataLength - 8));
    if (part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
  }
  const authPlugin = has(capabilities, Capability.PLUGIN_AUTH) ? r.nulOrRest().toString("latin1") : "mysql_native_password";
  return {
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2]),
    capabilities,
    extendedCapabilities,
    collation,
    status,
    authPlugin,
  };
}

/** An SSLRequest is the first 32 bytes of a handshake response, with CLIENT_SSL set, and nothing else. */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === 32 && has(payload.readUInt32LE(0), Capability.SSL);
}

export function decodeHandshakeResponse(payload: Buffer): HandshakeResponse {
  const r = new BufferReader(payload);
  const capabilities = r.u32();
  if (!has(capabilities, Capability.PROTOCOL_41)) {
    throw new MalformedPacketError("clients older than protocol 4.1 are not supported");
  }
  const maxPacketSize = r.u32();
  const collation = r.u8();
  r.skip(19);
  const extendedCapabilities = has(capabilities, Capability.LONG_PASSWORD) ? (r.skip(4), 0) : r.u32();
  const user = r.nulString().toString("utf8");
  let authResponse: Buffer;
  if (has(capabilities, Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA)) authResponse = r.lenencBytes();
  else if (has(capabilities, Capability.SECURE_CONNECTION)) authResponse = r.bytes(r.u8());
  else authResponse = r.nulString();
  const database = has(capabilities, Capability.CONNECT_WITH_DB) && r.remaining > 0 ? r.nulOrRest().toString("utf8") : null;
  const authPlugin = has(capabilities, Capability.PLUGIN_AUTH) && r.remaining > 0 ? r.nulOrRest().toString("latin1") : null;
  let connectAttributes: Buffer | null = null;
  if (has(capabilities, Capability.CONNECT_ATTRS) && r.remaining > 0) {
    const length = r.lenenc();
    const block = r.bytes(length);
    connectAttributes = Buffer.concat([lenencInt(length), block]);
  }
  return {
    capabilities: capabilities >>> 0,
    extendedCapabilities: extendedCapabilities >>> 0,
    maxPacketSize,
    collation,
    user,
    authResponse,
    database: database === "" ? null : database,
    authPlugin,
    connectAttributes,
  };
}

export function encodeHandshakeResponse(h: HandshakeResponse): Buffer {
  const caps = h.capabilities >>> 0;
  const fixed = Buffer.alloc(4 + 4 + 1 + 23);
  fixed.writeUInt32LE(caps, 0);
  fixed.writeUInt32LE(h.maxPacketSize >>> 0, 4);
  fixed[8] = h.collation & 0xff;
  if (!has(caps, Capability.LONG_PASSWORD)) fixed.writeUInt32LE(h.extendedCapabilities >>> 0, 28);
  let auth: Buffer;
  if (has(caps, Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA)) auth = Buffer.concat([lenencInt(h.authResponse.length), h.authResponse]);
  else if (has(caps, Capability.SECURE_CONNECTION)) auth = Buffer.concat([Buffer.from([h.authResponse.length]), h.authResponse]);
  else auth = Buffer.concat([h.authResponse, Buffer.from([0])]);
  return Buffer.concat([
    fixed,
    Buffer.from(h.user + "\0", "utf8"),
    auth,
    has(caps, Capability.CONNECT_WITH_DB) ? Buffer.from((h.database ?? "") + "\0", "utf8") : Buffer.alloc(0),
    has(caps, Capability.PLUGIN_AUTH) ? Buffer.from((h.authPlugin ?? "") + "\0", "latin1") : Buffer.alloc(0),
    has(caps, Capability.CONNECT_ATTRS) && h.connectAttributes ? h.connectAttributes : Buffer.alloc(0),
  ]);
}

export function encodeAuthSwitch(plugin: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xfe]), Buffer.from(plugin + "\0", "latin1"), data, Buffer.from([0])]);
}

export function encodeOk(status: number, warnings = 0): Buffer {
  const b = Buffer.alloc(7);
  b[0] = 0x00;
  b[1] = 0; // affected rows
  b[2] = 0; // last insert id
  b.writeUInt16LE(status & 0xffff, 3);
  b.writeUInt16LE(warnings & 0xffff, 5);
  return b;
}

export function encodeError(code: number, sqlState: string, message: string): Buffer {
  const head = Buffer.alloc(9);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  head.write("#" + sqlState.padEnd(5, "0").slice(0, 5), 3, "latin1");
  return Buffer.concat([head, Buffer.from(message, "utf8")]);
}

export interface ServerError {
  code: number;
  sqlState: string;
  message: string;
}

export function decodeError(payload: Buffer): ServerError {
  const r = new BufferReader(payload);
  r.skip(1);
  const code = r.u16();
  let sqlState = "HY000";
  if (payload[3] === 0x23) {
    r.skip(1);
    sqlState = r.bytes(5).toString("latin1");
  }
  return { code, sqlState, message: r.rest().toString("utf8") };
}
