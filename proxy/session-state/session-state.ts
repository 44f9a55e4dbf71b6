import { decodeChangeUser } from "../protocol/change-user";
import { Command as CommandCodes, ServerStatus as StatusFlags } from "../protocol/constants";
import type { OkPacket } from "../protocol/ok-packet";
import type { Reply } from "./reply-follower";
import { classifyQuery, type Effect, type StatementClass } from "./statement-classifier";
import { TRACKING_SETTINGS } from "./tracking-settings";

// The product runs TypeScript through tsx, which turns imported bindings into getters: the follower's hot
// path reads module-local copies of them (about a fifth of its time per query otherwise).
const Command = CommandCodes;
const ServerStatus = StatusFlags;

// The state of one client session as far as a fresh connection would need it: what session tracking
// reported (system variables the session changed, the current database, the characteristics of the next
// transaction), what the proxy saw the client send (prepared statements with their SQL, COM_INIT_DB,
// COM_RESET_CONNECTION, COM_CHANGE_USER), the latest status flags, and what pins the session to its
// connection (the classifier's effects). User variables and LAST_INSERT_ID() are not followed: they are
// read once, when the session parks (park-capture.ts).

/** The variables that shape how a statement's text is parsed, recorded with each prepared statement. */
export const PARSE_CONTEXT_VARIABLES = ["sql_mode", "character_set_client", "character_set_connection", "collation_connection"] as const;

/**
 * `SET NAMES cs [COLLATE coll]` alone: the tracker reports the character sets it set but not the collation,
 * which string literals of a statement prepared after it take (found by the parking fuzz).
 */
const SET_NAMES = /^\s*SET\s+NAMES\s+['"`]?(\w+)['"`]?(?:\s+COLLATE\s+['"`]?(\w+)['"`]?)?\s*;?\s*$/i;

export interface PrepareContext {
  database: string | null;
  /** The tracked values of PARSE_CONTEXT_VARIABLES when the statement was prepared (absent: as at login). */
  variables: Record<string, string>;
}

export interface PreparedStatement {
  /** The id the client knows the statement by. */
  clientId: number;
  sql: string;
  params: number;
  columns: number;
  context: PrepareContext;
}

/** In the set of tracking names a reply reported: it reported some system variable. */
const ANY_VARIABLE = "*";
/** The variables of the session's transaction access mode (see SessionState.accessModeDeferred). */
const ACCESS_MODE = new Set(["tx_read_only", "transaction_read_only"]);
/**
 * A COMMIT or ROLLBACK (not ROLLBACK TO SAVEPOINT) among a query's statements, looked for only while the
 * access mode waits for one (rare): one hidden behind a comment keeps the session pinned, which is safe.
 */
const ENDS_TRANSACTION = /(^|;)\s*(COMMIT|ROLLBACK)\b(?!\s+(WORK\s+)?TO\b)/i;

/** Session variables whose value cannot be carried to another connection as a plain SET. */
const NOT_RESTORABLE: Record<string, string> = {
  timestamp: "SET timestamp (a fixed clock)",
  rand_seed1: "SET rand_seed1",
  rand_seed2: "SET rand_seed2",
  pseudo_thread_id: "SET pseudo_thread_id",
  insert_id: "SET insert_id",
  gtid_seq_no: "SET gtid_seq_no",
};

export interface SessionLogin {
  user: string;
  database: string | null;
  status?: number | null;
  /** The compute's global defaults already track what the proxy needs (no TRACKING_SETUP_SQL needed). */
  trackingByDefault?: boolean;
  /** Told when a reply shows that the compute's tracking defaults may not be what they were checked to be. */
  trackingDoubt?: () => void;
}

export class SessionState {
  user: string;
  database: string | null;
  /** Tracked system variables the session changed since login, by lower-case name. */
  readonly variables = new Map<string, string>();
  /**
   * The collation `SET NAMES cs COLLATE coll` gave character_set_client, while nothing set that variable
   * since (null: the login's, or the character set's default). @@character_set_client shows only the
   * character set, yet MariaDB gives a string parameter of a binary execute this collation, and only SET
   * NAMES ... COLLATE (or the handshake) sets it (found by the parking fuzz).
   */
  clientCollation: { charset: string; collation: string } | null = null;
  /** SQL that reproduces the next transaction's characteristics (SET TRANSACTION ...), "" when none. */
  transactionCharacteristics = "";
  /**
   * Whether a pending one-shot SET TRANSACTION may have been used up without the proxy seeing it: a
   * statement outside a transaction that touches a transactional table uses it, and a result set ended by
   * EOF (a client without CLIENT_DEPRECATE_EOF) carries no session state to say so (found by the parking
   * fuzz). Cleared by the next report of the characteristics.
   */
  characteristicsUnknown = false;
  /**
   * The session's transaction access mode (SET SESSION TRANSACTION READ ONLY / READ WRITE, tx_read_only)
   * was set inside a transaction: MariaDB 10.11 changes the variable at once but keeps the old mode for
   * transactions until an explicit COMMIT or ROLLBACK (after an implicit one, such as SET autocommit = 1's,
   * the next transaction still has the old mode). A restore sets the variable, and with it the mode, so it
   * cannot reproduce that (found by the parking fuzz with take-overs: FUZZ_SEED=900300594 session 114).
   * Cleared by COMMIT or ROLLBACK, a SET of the mode outside a transaction, and a reset.
   */
  accessModeDeferred = false;
  /** session_track_transaction_info's 8 flags, when reported. */
  transactionState: string | null = null;
  readonly prepared = new Map<number, PreparedStatement>();
  /**
   * Multi-statements as COM_SET_OPTION last set them (null: as the login's capabilities say). The option
   * outlives COM_RESET_CONNECTION (seen on MariaDB 10.11), so a reset keeps it.
   */
  multiStatements: boolean | null = null;
  /** Latest status flags; null when unknown (before any, or after an error that may have left a transaction). */
  status: number | null;

  tableLocks = false;
  globalReadLock = false;
  backupLock = false;
  xa = false;
  roleSet = false;
  readonly temporaryTables = new Set<string>();
  readonly handlers = new Set<string>();
  readonly sqlPrepared = new Set<string>();
  /** GET_LOCK() names held, with counts (locks are re-entrant); unknownLocks when a name was not a literal. */
  readonly userLocks = new Map<string, number>();
  unknownLocks = false;
  /** Reasons the session's state could not be followed (sticky until reset). */
  readonly untracked = new Set<string>();
  /**
   * Whether the connection tracks what the proxy needs: set when a reply reports every tracking setting
   * with an acceptable value (the reply to TRACKING_SETUP_SQL), or from the start when the compute's
   * global defaults already track it. COM_RESET_CONNECTION and COM_CHANGE_USER put session variables back
   * to the global defaults, so after them the proxy must set tracking up again, unless those defaults
   * track. A SET whose OK reports no variable shows that they don't (any more): not ready from then on.
   */
  trackingReady: boolean;
  private trackingByDefault: boolean;
  /** Told when the connection shows that the compute's defaults may not track (tracking-defaults.ts). */
  private readonly trackingDoubt: (() => void) | undefined;
  /**
   * What only a capture reads (user variables, LAST_INSERT_ID(), collation_connection: park-capture.ts) may
   * have changed since the proxy last read it. Set by any reply that says some session state changed
   * (session_track_state_change: SET of a user variable, a stored function's or trigger's, SET NAMES, ...),
   * by any statement that could change them without saying so (a user variable assigned in a SELECT with
   * :=, which MariaDB 10.11 does not report; INSERT, REPLACE, LOAD DATA, CALL and LAST_INSERT_ID(expr),
   * which change LAST_INSERT_ID()), and by any command other than a plain statement. The proxy clears it
   * when it has just captured or restored them: a session that stays clean needs no capture to move.
   */
  captureStale = true;

  constructor(readonly capabilities: number, login: SessionLogin) {
    this.user = login.user;
    this.database = login.database;
    this.status = login.status ?? null;
    this.trackingByDefault = login.trackingByDefault ?? false;
    this.trackingReady = this.trackingByDefault;
    this.trackingDoubt = login.trackingDoubt;
  }

  /** Apply a finished reply (from ReplyFollower.onReply). */
  applyReply(reply: Reply): void {
    const info = reply.command;
    let stateChanged = false;
    const reported = new Set<string>();
    for (const result of reply.results) {
      const ok = result.ok;
      if (ok) stateChanged = this.applyTracked(ok, reported) || stateChanged;
      // Any other way of setting character_set_client gives it the character set's default collation.
      if (ok?.sessionState.some((c) => c.type === "system-variable" && c.name.toLowerCase() === "character_set_client")) this.clientCollation = null;
      const untracked = result.kind === "rows" && result.ok === null && (result.status & ServerStatus.IN_TRANS) === 0;
      if (untracked && this.transactionCharacteristics !== "") this.characteristicsUnknown = true;
    }
    if (reply.status !== null) this.status = reply.status;
    if (mayChangeCaptured(reply, this.prepared)) this.captureStale = true;
    if (Object.keys(TRACKING_SETTINGS).every((name) => reported.has(name))) this.trackingReady = true;
    switch (info.code) {
      case Command.QUERY:
        if (info.sql === undefined) this.untracked.add("a statement too large for the proxy to inspect");
        else {
          this.applyStatements(classifyQuery(info.sql), reply, stateChanged, reported);
          if (this.accessModeDeferred && !reply.error && ENDS_TRANSACTION.test(info.sql)) this.accessModeDeferred = false;
          const names = reply.error ? null : SET_NAMES.exec(info.sql);
          // With COLLATE: that collation; without: the character set's default, which setting
          // character_set_connection alone gives on a restore.
          if (names?.[2]) this.variables.set("collation_connection", names[2].toLowerCase());
          else if (names) this.variables.delete("collation_connection");
          if (names?.[2]) this.clientCollation = { charset: names[1]!.toLowerCase(), collation: names[2].toLowerCase() };
          else if (names) this.clientCollation = null;
        }
        break;
      case Command.STMT_EXECUTE:
      case Command.STMT_BULK_EXECUTE: {
        const statement = info.statementId === undefined ? undefined : this.prepared.get(info.statementId);
        if (statement) this.applyStatements(classifyQuery(statement.sql), reply, stateChanged, reported);
        else if (!reply.error) this.untracked.add("an execute of a statement the proxy did not see prepared");
        break;
      }
      case Command.STMT_PREPARE:
        if (reply.prepared && info.sql !== undefined) {
          this.prepared.set(reply.prepared.statementId, {
            clientId: reply.prepared.statementId,
            sql: info.sql,
            params: reply.prepared.params,
            columns: reply.prepared.columns,
            context: this.parseContext(),
          });
        }
        break;
      case Command.STMT_CLOSE:
        if (info.statementId !== undefined) this.prepared.delete(info.statementId);
        break;
      case Command.INIT_DB:
        if (!reply.error && info.schema !== undefined) this.database = info.schema;
        break;
      case Command.SET_OPTION:
        if (!reply.error && (info.option === 0 || info.option === 1)) this.multiStatements = info.option === 0;
        break;
      case Command.RESET_CONNECTION:
        if (!reply.error) this.reset(this.database);
        break;
      case Command.CHANGE_USER:
        if (!reply.error && info.payload) {
          const change = decodeChangeUser(info.payload, this.capabilities);
          this.user = change.user;
          this.reset(change.database);
          for (const result of reply.results) if (result.ok) this.applyTracked(result.ok, new Set());
        }
        break;
    }
  }

  /** The parse context now, to be recorded with a statement prepared now. */
  parseContext(): PrepareContext {
    const variables: Record<string, string> = {};
    for (const name of PARSE_CONTEXT_VARIABLES) {
      const value = this.variables.get(name);
      if (value !== undefined) variables[name] = value;
    }
    return { database: this.database, variables };
  }

  /**
   * Session tracking's report in one OK packet; whether it said "some state changed". The names of the
   * tracking settings it reported with a value the proxy can work with go into `acceptedTracking`, and
   * ANY_VARIABLE when it reported any system variable.
   */
  private applyTracked(ok: OkPacket, acceptedTracking: Set<string>): boolean {
    let stateChanged = false;
    for (const change of ok.sessionState) {
      switch (change.type) {
        case "system-variable": {
          acceptedTracking.add(ANY_VARIABLE);
          const name = change.name.toLowerCase();
          const tracking = TRACKING_SETTINGS[name];
          if (tracking) {
            if (tracking.accepts(change.value)) acceptedTracking.add(name);
            else this.untracked.add(`the client changed ${name}, so its session can no longer be followed`);
            break;
          }
          this.variables.set(name, change.value);
          if (ACCESS_MODE.has(name)) this.accessModeDeferred = (ok.status & ServerStatus.IN_TRANS) !== 0;
          break;
        }
        case "schema":
          this.database = change.name === "" ? null : change.name;
          break;
        case "state-change":
          stateChanged ||= change.changed;
          break;
        case "transaction-characteristics":
          this.transactionCharacteristics = change.sql;
          this.characteristicsUnknown = false;
          break;
        case "transaction-state":
          this.transactionState = change.state;
          break;
        case "gtids":
          break;
        case "unknown":
          this.untracked.add(`session-state entry of type ${change.code}`);
          break;
      }
    }
    return stateChanged;
  }

  private applyStatements(statements: StatementClass[], reply: Reply, stateChanged: boolean, acceptedTracking: Set<string>) {
    const failed = reply.error !== null;
    const single = statements.length <= 1;
    if (failed) {
      // An error may leave a transaction that an earlier status does not show (autocommit off, or a
      // routine that began one): the status is unknown until the next OK or EOF says.
      const before = this.status;
      const quietAutocommit = before !== null && (before & ServerStatus.AUTOCOMMIT) !== 0 && (before & ServerStatus.IN_TRANS) === 0;
      if (!quietAutocommit || statements.some((s) => s.mayStartTransaction)) this.status = null;
    }
    for (const statement of statements) {
      for (const effect of statement.effects) {
        // What a failed single statement adds did not happen (except a lock taken before a later error);
        // in a failed multi-statement query it may have: pin. Releases count only when everything succeeded.
        const adds = isAdding(effect);
        if (adds && failed && single && effect.type !== "get-lock") continue;
        if (!adds && failed) continue;
        if (effect.type === "variable-set") {
          // With tracking on, MariaDB reports every variable a SET assigns, even to the value it had.
          if (!failed && !acceptedTracking.has(ANY_VARIABLE)) this.trackingLost();
          continue;
        }
        if (effect.type === "global-tracking-set") {
          if (!failed) this.trackingDoubt?.();
          continue;
        }
        if (effect.type === "tracking-set") {
          // A changed tracking list no longer reports its own change: unless the reply showed an
          // acceptable value, the session can no longer be followed.
          if (!acceptedTracking.has(effect.name)) this.untracked.add(`the client changed ${effect.name}, so its session can no longer be followed`);
          continue;
        }
        this.applyEffect(effect, stateChanged);
      }
    }
  }

  private applyEffect(effect: Effect, stateChanged: boolean) {
    const qualified = (name: string) => (name.includes(".") || this.database === null ? name : `${this.database}.${name}`);
    switch (effect.type) {
      case "lock-tables":
        this.tableLocks = true;
        break;
      case "unlock-tables":
        this.tableLocks = false;
        this.globalReadLock = false;
        break;
      case "global-read-lock":
        this.globalReadLock = true;
        break;
      case "backup-lock":
        this.backupLock = true;
        break;
      case "backup-unlock":
        this.backupLock = false;
        break;
      case "xa-open":
        this.xa = true;
        break;
      case "xa-close":
        this.xa = false;
        break;
      case "temporary-created":
        this.temporaryTables.add(qualified(effect.name));
        break;
      case "tables-dropped":
        for (const name of effect.names) this.temporaryTables.delete(qualified(name));
        break;
      case "handler-open":
        this.handlers.add(effect.alias.toLowerCase());
        break;
      case "handler-close":
        this.handlers.delete(effect.alias.toLowerCase());
        break;
      case "sql-prepare":
        this.sqlPrepared.add(effect.name.toLowerCase());
        break;
      case "sql-deallocate":
        this.sqlPrepared.delete(effect.name.toLowerCase());
        break;
      case "get-lock":
        if (effect.name === null) this.unknownLocks = true;
        else this.userLocks.set(effect.name.toLowerCase(), (this.userLocks.get(effect.name.toLowerCase()) ?? 0) + 1);
        break;
      case "release-lock": {
        if (effect.name === null) break; // which lock? keep them all
        const key = effect.name.toLowerCase();
        const count = (this.userLocks.get(key) ?? 0) - 1;
        if (count > 0) this.userLocks.set(key, count);
        else this.userLocks.delete(key);
        break;
      }
      case "release-all-locks":
        this.userLocks.clear();
        this.unknownLocks = false;
        break;
      case "set-role":
        this.roleSet = true;
        break;
      case "variable-default":
        // The tracker reported the new value, which a SET can carry over, except for the variables
        // whose value moves by itself after DEFAULT (timestamp: the clock runs again).
        if (NOT_RESTORABLE[effect.name]) this.variables.delete(effect.name);
        break;
      case "tracking-set":
      case "variable-set":
      case "global-tracking-set":
        break;
      case "opaque":
        // System variables such SQL sets are tracked and user variables are read at parking; anything
        // else it changed (a temporary table, an SQL prepared statement) only shows as "state changed".
        if (stateChanged) this.untracked.add(`${effect.what} changed session state the proxy cannot see`);
        break;
    }
  }

  /**
   * The connection does not report what its statements change (its compute's defaults don't track, or no
   * longer do): pinned until the proxy sets tracking up itself, here or on the next connection.
   */
  private trackingLost(): void {
    if (!this.trackingReady && !this.trackingByDefault) return;
    this.trackingByDefault = false;
    this.trackingReady = false;
    this.trackingDoubt?.();
  }

  /** COM_RESET_CONNECTION and COM_CHANGE_USER: back to a fresh login's state. */
  reset(database: string | null) {
    this.database = database;
    this.variables.clear();
    this.clientCollation = null;
    this.transactionCharacteristics = "";
    this.characteristicsUnknown = false;
    this.accessModeDeferred = false;
    this.transactionState = null;
    this.prepared.clear();
    this.tableLocks = this.globalReadLock = this.backupLock = this.xa = this.roleSet = false;
    this.temporaryTables.clear();
    this.handlers.clear();
    this.sqlPrepared.clear();
    this.userLocks.clear();
    this.unknownLocks = false;
    this.untracked.clear();
    this.trackingReady = this.trackingByDefault;
  }

  /** Variables the session set that no SET can carry over (each pins it). */
  notRestorableVariables(): string[] {
    // A loop, not filter/map: asked at every safe point of every session (three arrays each time add up).
    const reasons: string[] = [];
    for (const name of this.variables.keys()) {
      const reason = NOT_RESTORABLE[name];
      if (reason) reasons.push(reason);
    }
    return reasons;
  }
}

function isAdding(effect: Effect): boolean {
  switch (effect.type) {
    case "unlock-tables":
    case "backup-unlock":
    case "xa-close":
    case "tables-dropped":
    case "handler-close":
    case "sql-deallocate":
    case "release-lock":
    case "release-all-locks":
    case "variable-default":
      return false;
    default:
      return true;
  }
}

/** Statements that may change user variables or LAST_INSERT_ID() without session tracking saying so. */
const CHANGES_UNREPORTED = /(?<!@)@(?!@)|last_insert_id|\binsert\b|\breplace\b|\bload\b|\bcall\b|\bexecute\b/i;

/** Commands that change nothing a capture reads (besides what their statements do, checked above). */
const PLAIN_COMMANDS = new Set<number>([Command.QUERY, Command.STMT_EXECUTE, Command.STMT_PREPARE, Command.STMT_CLOSE, Command.STMT_RESET, Command.STMT_FETCH, Command.PING]);

function mayChangeCaptured(reply: Reply, prepared: ReadonlyMap<number, PreparedStatement>): boolean {
  const info = reply.command;
  if (!PLAIN_COMMANDS.has(info.code)) return true;
  if (reply.results.some((r) => ((r.kind === "ok" ? r.ok.status : r.status) & ServerStatus.SESSION_STATE_CHANGED) !== 0)) return true;
  if (reply.status !== null && (reply.status & ServerStatus.SESSION_STATE_CHANGED) !== 0) return true;
  if (info.code === Command.QUERY) return info.sql === undefined || CHANGES_UNREPORTED.test(info.sql);
  if (info.code === Command.STMT_EXECUTE) {
    const statement = info.statementId === undefined ? undefined : prepared.get(info.statementId);
    return !statement || CHANGES_UNREPORTED.test(statement.sql);
  }
  return false;
}
