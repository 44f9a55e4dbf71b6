import { ServerStatus } from "../protocol/constants";
import type { ReplyFollower } from "./reply-follower";
import type { SessionState } from "./session-state";

// Why a session cannot be parked now, each with the reason people read in the console and the compute's
// status ("open transaction"). How each is known:
//
//   reply in flight, open cursor, pending long data, lost track   the reply follower (packet level)
//   open transaction (also savepoints, which live only in one,    SERVER_STATUS_IN_TRANS /
//     and autocommit off once work was done: that opens one)        IN_TRANS_READONLY of the latest OK/EOF
//   transaction state unknown                                      an error after which no OK/EOF came yet
//                                                                  (parking's capture query settles it);
//                                                                  the access mode set inside a transaction
//                                                                  (until COMMIT / ROLLBACK: session-state.ts)
//   XA, LOCK TABLES, FLUSH ... WITH READ LOCK, BACKUP, GET_LOCK,   the statement classifier, on what the
//     temporary tables, HANDLER, SQL PREPARE, SET ROLE                client sent (and its success)
//   state the proxy could not follow                              a CALL / EXECUTE IMMEDIATE / compound
//                                                                  statement whose OK said "state changed",
//                                                                  a session_track_* setting the client
//                                                                  changed, an unknown tracking entry
//   a variable no SET can restore (timestamp, ...)                session tracking's variable reports
//   tracking not set up (before TRACKING_SETUP_SQL's reply, and   the tracking settings' own reports
//     again after COM_RESET_CONNECTION / COM_CHANGE_USER)
//
// Unsure means pinned: a session is parked only when none of these holds.

export type PinCode =
  | "in-flight"
  | "lost"
  | "cursor"
  | "long-data"
  | "transaction"
  | "transaction-unknown"
  | "xa"
  | "lock-tables"
  | "read-lock"
  | "backup-lock"
  | "user-lock"
  | "temporary-table"
  | "handler"
  | "sql-prepared"
  | "role"
  | "untracked"
  | "tracking"
  | "variable";

export interface Pin {
  code: PinCode;
  reason: string;
}

const list = (names: Iterable<string>) => [...names].slice(0, 5).join(", ");

export function pinsOf(follower: ReplyFollower, state: SessionState): Pin[] {
  const pins: Pin[] = [];
  const pin = (code: PinCode, reason: string) => pins.push({ code, reason });
  if (!state.trackingReady) pin("tracking", "session tracking is not set up on this connection");
  if (follower.lost) pin("lost", `the proxy lost track of the session (${follower.lost})`);
  if (follower.inFlight > 0) pin("in-flight", "a command is running");
  if (follower.cursors.size > 0) pin("cursor", "open cursor");
  if (follower.longData.size > 0) pin("long-data", "pending long data for a prepared statement");
  const status = state.status;
  if (status === null) pin("transaction-unknown", "transaction state unknown");
  else if ((status & (ServerStatus.IN_TRANS | ServerStatus.IN_TRANS_READONLY)) !== 0) pin("transaction", "open transaction");
  if (state.characteristicsUnknown) pin("transaction-unknown", "a SET TRANSACTION for the next transaction may have been used up unseen");
  if (state.accessModeDeferred) pin("transaction-unknown", "the transaction access mode was set inside a transaction (it applies after COMMIT or ROLLBACK)");
  if (state.transactionState?.includes("L")) pin("lock-tables", "LOCK TABLES");
  if (state.xa) pin("xa", "XA transaction");
  if (state.tableLocks && !state.transactionState?.includes("L")) pin("lock-tables", "LOCK TABLES");
  if (state.globalReadLock) pin("read-lock", "FLUSH TABLES WITH READ LOCK");
  if (state.backupLock) pin("backup-lock", "BACKUP STAGE / BACKUP LOCK");
  if (state.userLocks.size > 0 || state.unknownLocks) {
    pin("user-lock", state.userLocks.size > 0 ? `GET_LOCK() lock (${list(state.userLocks.keys())})` : "GET_LOCK() lock");
  }
  if (state.temporaryTables.size > 0) pin("temporary-table", `temporary table (${list(state.temporaryTables)})`);
  if (state.handlers.size > 0) pin("handler", `HANDLER open (${list(state.handlers)})`);
  if (state.sqlPrepared.size > 0) pin("sql-prepared", `SQL prepared statement (${list(state.sqlPrepared)})`);
  if (state.roleSet) pin("role", "SET ROLE");
  for (const reason of state.untracked) pin("untracked", reason);
  for (const reason of state.notRestorableVariables()) pin("variable", reason);
  return pins;
}
