// The session-tracking settings the proxy asks for on every compute connection it follows, right after
// login and before the client's first command. With them, every OK packet reports the system variables a
// statement changed (all of them: '*'), the current database, that some other state changed, and the
// SQL that reproduces the next transaction's characteristics (a pending SET TRANSACTION).
//
// The login itself must carry CLIENT_SESSION_TRACK (and the proxy keeps it whether or not the client
// asked: MariaDB only appends session state to OK packets for connections that negotiated it), and
// the proxy should log in without a database and restore it with USE, so a database dropped meanwhile
// fails as a restore error rather than as a login error.

export const TRACKING_SETUP_SQL =
  "SET SESSION session_track_system_variables = '*', session_track_schema = ON, " +
  "session_track_state_change = ON, session_track_transaction_info = 'CHARACTERISTICS'";

const on = (v: string) => v === "1" || v.toUpperCase() === "ON";

/**
 * If the client changes one of these itself, the proxy can follow on only if the new value keeps what
 * it needs; otherwise the session is pinned ("can no longer be followed").
 */
export const TRACKING_SETTINGS: Record<string, { accepts: (value: string) => boolean }> = {
  session_track_system_variables: { accepts: (v) => v.split(",").some((item) => item.trim() === "*") },
  session_track_schema: { accepts: on },
  session_track_state_change: { accepts: on },
  session_track_transaction_info: { accepts: (v) => v.toUpperCase() === "CHARACTERISTICS" },
};
