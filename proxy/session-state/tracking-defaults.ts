import type { OkPacket } from "../protocol/ok-packet";
import { TRACKING_SETTINGS } from "./tracking-settings";

// Whether a compute connection already tracks what the follower needs by its server's global defaults
// (the drivers start mariadbd with them: SESSION_TRACKING_ARGS in server/compute/drivers/local/
// mariadb-config.ts), so the proxy may skip TRACKING_SETUP_SQL on it.
//
// How the proxy knows, and why this way. The greeting says nothing about settings, and a per-connection
// query would cost what the setup costs. Two checks together:
//   1. Per connection, free: the login's own OK packet (the proxy always logs in with CLIENT_SESSION_TRACK).
//      With the defaults, MariaDB 10.11 puts in it the transaction characteristics (only
//      session_track_transaction_info = CHARACTERISTICS does) and, when the login named a database, the
//      schema (session_track_schema) and "state changed" (session_track_state_change). A compute started
//      without the defaults (by an older version, adopted by the reconciler) shows none of them, and one
//      whose GLOBAL values a tenant changed shows what it changed, from that connection's own start. A login
//      without a database shows no schema and no state change, so it is always set up: that is a parked
//      session's restore, which runs its setup inside the restore anyway.
//   2. Per compute address, once: session_track_system_variables = '*' leaves no mark on the login. The
//      first connection whose login passes check 1 is set up as before and also asks the GLOBAL values
//      (GLOBAL_CHECK_SQL, pipelined, its reply taken out of the stream like the setup's); the answer is
//      cached per address and server version for CHECK_TTL_MS, and forgotten on anything surprising: a
//      login that fails check 1, a session that turns out not to report what it changed (SessionState
//      pins it: "session tracking is not set up on this connection"), or a client's SET GLOBAL of a
//      session_track_ variable.
// What is left is a tenant who changes the GLOBAL list of tracked variables by a way the proxy does not see
// (SUPER is never granted: server/compute/drivers/local/privileges.ts), within the TTL: a SET it runs is
// still caught when its OK reports no variable, and a routine that sets variables reports "state changed",
// which pins it.

/** How long a compute's checked GLOBAL values are believed. */
export const CHECK_TTL_MS = 60_000;

/** The GLOBAL tracking settings, in TRACKING_SETTINGS' order (one row of text values). */
export const GLOBAL_CHECK_SQL = `SELECT ${Object.keys(TRACKING_SETTINGS)
  .map((name) => `@@GLOBAL.${name}`)
  .join(", ")}`;

/** Whether a row of GLOBAL_CHECK_SQL's values tracks everything the follower needs. */
export function globalsTrack(row: (string | null)[]): boolean {
  const settings = Object.values(TRACKING_SETTINGS);
  return row.length === settings.length && settings.every((setting, i) => row[i] !== null && setting.accepts(row[i]!));
}

/** Check 1, what the login's OK shows of the defaults on this connection ("unproven": it cannot tell). */
export type LoginEvidence = "tracks" | "does-not-track" | "unproven";

export function loginEvidence(ok: OkPacket, loggedInWithDatabase: boolean): LoginEvidence {
  const types = new Set(ok.sessionState.map((change) => change.type));
  if (!types.has("transaction-characteristics")) return "does-not-track";
  if (!loggedInWithDatabase) return "unproven"; // nothing shows session_track_state_change (see above)
  const stateChange = ok.sessionState.some((change) => change.type === "state-change" && change.changed);
  return types.has("schema") && stateChange ? "tracks" : "does-not-track";
}

/** What the proxy does on a new compute connection before the client's first command. */
export type TrackingPlan = "by-default" | "setup" | "setup-and-check";

interface Checked {
  tracks: boolean;
  at: number;
}

/** Check 2's answers, per compute address and server version. */
export class TrackingDefaults {
  private readonly checked = new Map<string, Checked>();
  /** Checks under way, with when they were asked (one that never answered is asked again after CHECK_TTL_MS). */
  private readonly checking = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  plan(endpoint: string | null, login: LoginEvidence): TrackingPlan {
    if (endpoint === null || login === "unproven") return "setup";
    if (login === "does-not-track") {
      // A server at this address that does not have the defaults now: whatever was checked no longer holds.
      this.forget(endpoint);
      return "setup";
    }
    const checked = this.checked.get(endpoint);
    if (checked && this.now() - checked.at < CHECK_TTL_MS) return checked.tracks ? "by-default" : "setup";
    const asked = this.checking.get(endpoint);
    if (asked !== undefined && this.now() - asked < CHECK_TTL_MS) return "setup"; // one check at a time per address
    this.checking.set(endpoint, this.now());
    return "setup-and-check";
  }

  /** The answer to a check `plan` asked for (null: it failed, e.g. the connection closed). */
  record(endpoint: string, tracks: boolean | null): void {
    this.checking.delete(endpoint);
    if (tracks === null) this.checked.delete(endpoint);
    else this.checked.set(endpoint, { tracks, at: this.now() });
  }

  forget(endpoint: string): void {
    this.checked.delete(endpoint);
  }
}

/** The proxy process's answers (a fact about the servers, whichever session learned it). */
export const trackingDefaults = new TrackingDefaults();
