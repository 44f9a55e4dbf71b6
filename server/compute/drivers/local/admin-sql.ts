import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import type { HeldThread, RoleSpec } from "../types";
import { accountAsSetSql, granteeOf, grantUnlessHeldSql } from "./privileges";
import { roleAccount, sqlIdent, sqlString } from "./sql-quote";

// The control plane administers a compute only through its unix socket, as the OS user it runs as
// (unix_socket authentication): no account with a password the control plane would have to keep exists.

const QUERY_TIMEOUT_MS = 30_000;

// Server errors after which trying again cannot help: the admin account itself is refused.
const ACCESS_DENIED = new Set([1044, 1045, 1130, 1698]);

export function isAccessDenied(err: unknown): boolean {
  const errno = (err as { errno?: unknown }).errno;
  return typeof errno === "number" && ACCESS_DENIED.has(errno);
}

export async function connectAdmin(socketPath: string, user: string, timeoutMs: number): Promise<Connection> {
  const conn = await mysql.createConnection({
    socketPath,
    user,
    connectTimeout: Math.max(1, Math.round(timeoutMs)),
    multipleStatements: false,
  });
  // A server that dies under an idle connection emits 'error'; unheard, it would crash the control plane.
  conn.on("error", () => undefined);
  try {
    // Our quoting relies on backslash escapes; a tenant's global NO_BACKSLASH_ESCAPES must not break it.
    await run(conn, "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return conn;
}

export async function closeAdmin(conn: Connection): Promise<void> {
  try {
    await conn.end();
  } catch {
    conn.destroy();
  }
}

async function run(conn: Connection, sql: string): Promise<void> {
  await conn.query({ sql, timeout: QUERY_TIMEOUT_MS });
}

async function select(conn: Connection, sql: string): Promise<RowDataPacket[]> {
  const [rows] = await conn.query<RowDataPacket[]>({ sql, timeout: QUERY_TIMEOUT_MS });
  return rows;
}

export async function ensureDatabase(conn: Connection, database: string): Promise<void> {
  await run(conn, `CREATE DATABASE IF NOT EXISTS ${sqlIdent(database)}`);
}

const PASSWORD_HASH = /^\*[0-9A-F]{40}$/i;

export function assertRoles(roles: readonly RoleSpec[]): void {
  for (const role of roles) {
    if (role.name.length === 0 || role.name.length > 80) {
      throw new Error(`invalid role name ${JSON.stringify(role.name)}`);
    }
    if (!PASSWORD_HASH.test(role.passwordHash)) {
      throw new Error(`role ${role.name}: the password hash is not a mysql_native_password hash`);
    }
  }
}

// Which accounts the control plane made is kept in the server itself, in a table of the `mysql` schema
// (out of the tenant's database list, and copied along with the accounts it describes). A former role is
// dropped only if it is listed there, so users that tenants create with their roles are never touched.
// Roles are always '<name>'@'%', so the table holds names only.
const MANAGED_ROLES = "mysql.control_plane_roles";

export async function syncRoleAccounts(conn: Connection, roles: readonly RoleSpec[]): Promise<void> {
  assertRoles(roles);
  await run(
    conn,
    `CREATE TABLE IF NOT EXISTS ${MANAGED_ROLES} (name VARCHAR(128) NOT NULL PRIMARY KEY) ENGINE=InnoDB ` +
      "COMMENT 'accounts created by the control plane; former ones are dropped'",
  );
  const wanted = new Set<string>();
  for (const role of roles) {
    wanted.add(role.name);
    const account = roleAccount(role.name);
    const hash = role.passwordHash.toUpperCase();
    await run(conn, `INSERT IGNORE INTO ${MANAGED_ROLES} (name) VALUES (${sqlString(role.name)})`);
    await run(conn, `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY PASSWORD ${sqlString(hash)}`);
    // Also for an existing account: the password may have been reset, or the tenant may have changed it.
    // Everything a tenant needs on its own compute, databases and users of its own included, and nothing
    // that reaches the host or the server's lifecycle: FILE, SUPER, SHUTDOWN, ... are left out. What is
    // granted and why is decided in privileges.ts. The control plane's account cannot be taken away for
    // good: the init file recreates it at every start.
    // Both only when the account differs (as the init file does for the control plane's account): each
    // rewrites the row and flushes the Aria log, two disk flushes on every cold start for nothing.
    await run(
      conn,
      `BEGIN NOT ATOMIC ` +
        `IF (${accountAsSetSql(role.name, "%", { plugin: "mysql_native_password", authentication_string: hash })}) = 0 ` +
        `THEN ALTER USER ${account} IDENTIFIED BY PASSWORD ${sqlString(hash)}; END IF; ` +
        `${grantUnlessHeldSql(account, sqlString(granteeOf(role.name, "%")))} END`,
    );
  }
  const managed = await select(conn, `SELECT name FROM ${MANAGED_ROLES}`);
  for (const row of managed) {
    const name = String(row.name);
    if (wanted.has(name)) continue;
    await run(conn, `DROP USER IF EXISTS ${roleAccount(name)}`);
    await run(conn, `DELETE FROM ${MANAGED_ROLES} WHERE name = ${sqlString(name)}`);
  }
}

/**
 * Client sessions, as the idle check sees them. Left out: this connection, the server's own threads
 * (InnoDB, event scheduler, delayed inserts, replication), clients still in the handshake, sessions already
 * killed, and the control plane's own admin sessions (its OS user over the socket, host 'localhost').
 * An idle tenant connection shows as COMMAND 'Sleep' with HOST '<ip>:<port>' and counts.
 */
export async function userSessionIds(conn: Connection, adminUser: string, adminHost: "localhost" | "any" = "localhost"): Promise<number[]> {
  return (await userSessions(conn, adminUser, adminHost)).map((session) => session.id);
}

/** A client session and, when it waits for its next command, how long it has (TIME_MS of 'Sleep'). */
export interface UserSession {
  id: number;
  idleMs: number | null;
}

/** userSessionIds with each session's idle time. */
export async function userSessions(conn: Connection, adminUser: string, adminHost: "localhost" | "any" = "localhost"): Promise<UserSession[]> {
  // The kubernetes driver's admin logs in over the network (host '<ip>:<port>'), under its own name.
  const admin = adminHost === "any" ? `USER = ${sqlString(adminUser)}` : `(USER = ${sqlString(adminUser)} AND HOST = 'localhost')`;
  const rows = await select(
    conn,
    `SELECT ID AS id, IF(COMMAND = 'Sleep', TIME_MS, NULL) AS idleMs FROM information_schema.PROCESSLIST
      WHERE ID <> CONNECTION_ID()
        AND COMMAND NOT IN ('Daemon', 'Killed', 'Binlog Dump', 'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Delayed insert')
        AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user', 'DELAYED')
        AND NOT ${admin}`,
  );
  return rows.map((row) => ({ id: Number(row.id), idleMs: row.idleMs === null ? null : Number(row.idleMs) }));
}

/**
 * How many of the sessions are someone's: all but the threads in `besides` that have been idle at least
 * since the report that named them (a taken pooled connection is pinged first, so it counts again).
 */
export function countBesides(sessions: readonly UserSession[], besides: readonly HeldThread[]): number {
  if (besides.length === 0) return sessions.length;
  const held = new Map(besides.map((thread) => [thread.id, thread.reportedMsAgo]));
  return sessions.filter((session) => {
    const reportedMsAgo = held.get(session.id);
    return reportedMsAgo === undefined || session.idleMs === null || session.idleMs < reportedMsAgo;
  }).length;
}

const ER_NO_SUCH_THREAD = 1094;

export async function killSessions(conn: Connection, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) continue;
    try {
      await run(conn, `KILL CONNECTION ${id}`);
    } catch (err) {
      // It ended by itself in the meantime.
      if ((err as { errno?: unknown }).errno !== ER_NO_SUCH_THREAD) throw err;
    }
  }
}
