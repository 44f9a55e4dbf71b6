import { BufferReader, lenencInt, MalformedPacketError } from "./buffer-reader";
import { SessionTrack } from "./constants";

// The session-state information an OK packet carries when the client has CLIENT_SESSION_TRACK and the
// status has SERVER_SESSION_STATE_CHANGED: a length-encoded block of entries, each a type byte and a
// length-encoded body. Unknown entry types are kept as raw bytes (a later server may add some), so a
// reader can tell "something changed that I don't understand" from "nothing changed".

export type SessionStateChange =
  /** A tracked system variable's new value (session_track_system_variables). */
  | { type: "system-variable"; name: string; value: string }
  /** The current database (session_track_schema); "" when there is none (it was dropped). */
  | { type: "schema"; name: string }
  /** Some session state changed (session_track_state_change): the body is the single character "1". */
  | { type: "state-change"; changed: boolean }
  /** GTIDs of the transaction (MySQL's session_track_gtids; MariaDB doesn't send it). */
  | { type: "gtids"; encoding: number; gtids: string }
  /** SQL that reproduces the characteristics of the current or next transaction ("" when none). */
  | { type: "transaction-characteristics"; sql: string }
  /** Eight flag characters, e.g. "T_R_W_S_" (session_track_transaction_info=STATE or CHARACTERISTICS). */
  | { type: "transaction-state"; state: string }
  | { type: "unknown"; code: number; data: Buffer };

export function decodeSessionState(block: Buffer): SessionStateChange[] {
  const r = new BufferReader(block);
  const changes: SessionStateChange[] = [];
  while (r.remaining > 0) {
    const code = r.u8();
    const body = new BufferReader(r.lenencBytes());
    changes.push(decodeEntry(code, body));
  }
  return changes;
}

function decodeEntry(code: number, body: BufferReader): SessionStateChange {
  const text = () => body.lenencBytes().toString("utf8");
  switch (code) {
    case SessionTrack.SYSTEM_VARIABLES: {
      const name = text();
      return { type: "system-variable", name, value: text() };
    }
    case SessionTrack.SCHEMA:
      return { type: "schema", name: text() };
    case SessionTrack.STATE_CHANGE:
      // The body is the bare flag character, not a length-encoded string.
      return { type: "state-change", changed: body.rest().toString("latin1") === "1" };
    case SessionTrack.GTIDS: {
      const encoding = body.u8();
      return { type: "gtids", encoding, gtids: text() };
    }
    case SessionTrack.TRANSACTION_CHARACTERISTICS:
      return { type: "transaction-characteristics", sql: text() };
    case SessionTrack.TRANSACTION_STATE: {
      const state = text();
      if (state.length !== 8) throw new MalformedPacketError(`transaction state "${state}" is not 8 characters`);
      return { type: "transaction-state", state };
    }
    default:
      return { type: "unknown", code, data: body.rest() };
  }
}

const lenencString = (s: string) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([lenencInt(b.length), b]);
};

function entry(code: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code]), lenencInt(body.length), body]);
}

/** The block as a server writes it (for tests, and for OK packets the proxy answers itself). */
export function encodeSessionState(changes: SessionStateChange[]): Buffer {
  return Buffer.concat(
    changes.map((c) => {
      switch (c.type) {
        case "system-variable":
          return entry(SessionTrack.SYSTEM_VARIABLES, Buffer.concat([lenencString(c.name), lenencString(c.value)]));
        case "schema":
          return entry(SessionTrack.SCHEMA, lenencString(c.name));
        case "state-change":
          return entry(SessionTrack.STATE_CHANGE, Buffer.from(c.changed ? "1" : "0", "latin1"));
        case "gtids":
          return entry(SessionTrack.GTIDS, Buffer.concat([Buffer.from([c.encoding]), lenencString(c.gtids)]));
        case "transaction-characteristics":
          return entry(SessionTrack.TRANSACTION_CHARACTERISTICS, lenencString(c.sql));
        case "transaction-state":
          return entry(SessionTrack.TRANSACTION_STATE, lenencString(c.state));
        case "unknown":
          return entry(c.code, c.data);
      }
    }),
  );
}
