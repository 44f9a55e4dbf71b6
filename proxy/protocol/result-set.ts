import { lenencInt } from "./buffer-reader";
import { encodeEof, encodeOkPacket } from "./ok-packet";

// A text-protocol result set the proxy writes itself (what it answers for a parked session's pool
// validation query): column count, column definitions, [EOF], rows, and the terminator, EOF or, under
// CLIENT_DEPRECATE_EOF, an OK packet with header 0xFE.

export interface ColumnDefinition {
  name: string;
  /** MYSQL_TYPE_* (0x08 LONGLONG, 0xFD VAR_STRING, ...). */
  type: number;
  /** Collation id: 63 (binary) for numbers. */
  charset: number;
  length: number;
  flags: number;
  decimals: number;
}

const lenencString = (s: string) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([lenencInt(b.length), b]);
};

/**
 * A column definition. Under MariaDB's EXTENDED_TYPE_INFO capability a block of extended metadata (type
 * names of UUID, INET6, JSON ... columns) follows org_name; the proxy's columns have none, so it is empty.
 */
export function encodeColumnDefinition(c: ColumnDefinition, extendedTypeInfo: boolean): Buffer {
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c;
  fixed.writeUInt16LE(c.charset, 1);
  fixed.writeUInt32LE(c.length, 3);
  fixed[7] = c.type;
  fixed.writeUInt16LE(c.flags, 8);
  fixed[10] = c.decimals;
  const names = [lenencString("def"), lenencString(""), lenencString(""), lenencString(""), lenencString(c.name), lenencString("")];
  return Buffer.concat([...names, ...(extendedTypeInfo ? [lenencInt(0)] : []), fixed]);
}

/** The payloads of a whole result set, in order (the caller numbers them from sequence id 1). */
export function encodeTextResultSet(
  columns: ColumnDefinition[],
  rows: (string | null)[][],
  status: number,
  session: { deprecateEof: boolean; extendedTypeInfo: boolean },
): Buffer[] {
  const deprecateEof = session.deprecateEof;
  const payloads = [lenencInt(columns.length), ...columns.map((c) => encodeColumnDefinition(c, session.extendedTypeInfo))];
  if (!deprecateEof) payloads.push(encodeEof(status));
  for (const row of rows) payloads.push(Buffer.concat(row.map((v) => (v === null ? Buffer.from([0xfb]) : lenencString(v)))));
  payloads.push(deprecateEof ? encodeOkPacket({ header: 0xfe, status }) : encodeEof(status));
  return payloads;
}
