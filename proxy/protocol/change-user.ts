import { BufferReader, MalformedPacketError } from "./buffer-reader";
import { Capability, Command } from "./constants";

// COM_CHANGE_USER: re-authenticate an open connection as another user, against the scramble of the
// connection's greeting. Its layout depends on the capabilities the connection was opened with.

export interface ChangeUser {
  user: string;
  authResponse: Buffer;
  database: string | null;
  /** Absent in the oldest clients' packets. */
  collation: number | null;
  authPlugin: string | null;
  /** The connect attributes as sent (length-encoded block), to pass on. */
  connectAttributes: Buffer | null;
}

const has = (caps: number, flag: number) => (caps & flag) !== 0;

export function decodeChangeUser(payload: Buffer, capabilities: number): ChangeUser {
  const r = new BufferReader(payload);
  if (r.u8() !== Command.CHANGE_USER) throw new MalformedPacketError("not a COM_CHANGE_USER packet");
  const user = r.nulString().toString("utf8");
  const authResponse = has(capabilities, Capability.SECURE_CONNECTION) ? r.bytes(r.u8()) : r.nulString();
  const database = r.remaining > 0 ? r.nulOrRest().toString("utf8") : null;
  const collation = r.remaining >= 2 ? r.u16() : null;
  const authPlugin = has(capabilities, Capability.PLUGIN_AUTH) && r.remaining > 0 ? r.nulOrRest().toString("latin1") : null;
  let connectAttributes: Buffer | null = null;
  if (has(capabilities, Capability.CONNECT_ATTRS) && r.remaining > 0) {
    const start = payload.length - r.remaining;
    r.bytes(r.lenenc());
    connectAttributes = payload.subarray(start, payload.length - r.remaining);
  }
  return { user, authResponse, database: database === "" ? null : database, collation, authPlugin, connectAttributes };
}

export function encodeChangeUser(c: ChangeUser, capabilities: number): Buffer {
  const auth = has(capabilities, Capability.SECURE_CONNECTION)
    ? Buffer.concat([Buffer.from([c.authResponse.length]), c.authResponse])
    : Buffer.concat([c.authResponse, Buffer.from([0])]);
  const parts: Buffer[] = [Buffer.from([Command.CHANGE_USER]), Buffer.from(`${c.user}\0`, "utf8"), auth, Buffer.from(`${c.database ?? ""}\0`, "utf8")];
  if (c.collation !== null) {
    const collation = Buffer.alloc(2);
    collation.writeUInt16LE(c.collation);
    parts.push(collation);
    if (has(capabilities, Capability.PLUGIN_AUTH)) parts.push(Buffer.from(`${c.authPlugin ?? ""}\0`, "latin1"));
    if (has(capabilities, Capability.CONNECT_ATTRS) && c.connectAttributes) parts.push(c.connectAttributes);
  }
  return Buffer.concat(parts);
}
