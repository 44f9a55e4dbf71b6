import { sqlString } from "./sql-quote";

// What the accounts on a compute may do: the GRANT for the project's roles and for the control plane's own
// account, and the REVOKE the init file runs at every start. Seen on MariaDB 10.11.
//
// The decision. A role may create databases and users of its own, so it keeps every privilege of
// ALL PRIVILEGES on *.* (with GRANT OPTION) except those that reach beyond the compute's own databases:
//   FILE                      SELECT ... INTO OUTFILE/DUMPFILE, LOAD DATA INFILE, LOAD_FILE(): files of the
//                             host (--secure-file-priv confines them to the compute's files/ directory too).
//   SUPER                     SET GLOBAL of most variables, among them general_log_file and
//                             slow_query_log_file: a log file written wherever mariadbd's OS user may write.
//   SHUTDOWN                  the control plane starts and stops the server, nobody else.
//   BINLOG ADMIN, BINLOG REPLAY, REPLICATION MASTER ADMIN, REPLICATION SLAVE ADMIN, FEDERATED ADMIN
//                             binary logs (off here), raw binlog events, CHANGE MASTER and CREATE SERVER:
//                             the last two make the server connect to hosts of the tenant's choosing.
// Kept, because they stay within the compute: CREATE USER (users of their own; it also allows altering,
// renaming or dropping the control plane's account, which the init file restores at every start),
// RELOAD (FLUSH for dump tools), PROCESS, CONNECTION ADMIN (KILL their own users' sessions, SET GLOBAL of
// connection limits), READ_ONLY ADMIN, SET USER (a DEFINER other than oneself, as dumps of views and
// routines carry: no account on a compute holds more than a role, so a definer grants nothing new),
// replication/binlog monitoring, and everything database-level.
//
// The control plane's account root@localhost gets the same list: it needs none of the denied privileges,
// and an account a tenant can rename or redefine (CREATE USER) must not be a way to them. The privileges
// are named, not "ALL PRIVILEGES ... REVOKE ...": a privilege a future MariaDB adds is not granted
// unseen, and an account cannot grant ALL without holding ALL.
//
// The limit of this, which MariaDB cannot do better (it has no partial revokes): a role writes every table
// of the `mysql` schema, so a tenant who edits mysql.global_priv by hand can give an account any
// privilege (a GRANT to it, FLUSH PRIVILEGES or a restart makes it effective). The init file takes the
// denied privileges away from every account at every start; in between, the boundary that holds is the
// OS one: mariadbd runs as an unprivileged user (see os-user.ts), --secure-file-priv, no symbolic links.

/** Privileges never held on a compute (MariaDB 10.11 names). */
export const DENIED_PRIVILEGES = [
  "FILE",
  "SUPER",
  "SHUTDOWN",
  "BINLOG ADMIN",
  "BINLOG REPLAY",
  "REPLICATION MASTER ADMIN",
  "REPLICATION SLAVE ADMIN",
  "FEDERATED ADMIN",
] as const;

/**
 * DENIED_PRIVILEGES as bits of mysql.global_priv's $.access (MariaDB 10.11, sql/privilege.h): SHUTDOWN 1<<7,
 * FILE 1<<9, SUPER 1<<15, FEDERATED ADMIN 1<<31, REPLICATION SLAVE ADMIN 1<<34, REPLICATION MASTER ADMIN
 * 1<<35, BINLOG ADMIN 1<<36, BINLOG REPLAY 1<<37.
 */
export const DENIED_ACCESS_MASK = [7, 9, 15, 31, 34, 35, 36, 37].reduce((mask, bit) => mask + 2 ** bit, 0);

/** ALL PRIVILEGES of MariaDB 10.11 without DENIED_PRIVILEGES. */
export const GRANTED_PRIVILEGES = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "DROP",
  "RELOAD",
  "PROCESS",
  "REFERENCES",
  "INDEX",
  "ALTER",
  "SHOW DATABASES",
  "CREATE TEMPORARY TABLES",
  "LOCK TABLES",
  "EXECUTE",
  "REPLICATION SLAVE",
  "BINLOG MONITOR",
  "CREATE VIEW",
  "SHOW VIEW",
  "CREATE ROUTINE",
  "ALTER ROUTINE",
  "CREATE USER",
  "EVENT",
  "TRIGGER",
  "CREATE TABLESPACE",
  "DELETE HISTORY",
  "SET USER",
  "CONNECTION ADMIN",
  "READ_ONLY ADMIN",
  "SLAVE MONITOR",
] as const;

/** The GRANT for a role or the control plane's account; `account` is already quoted ('name'@'host'). */
export function grantSql(account: string): string {
  return `GRANT ${GRANTED_PRIVILEGES.join(", ")} ON *.* TO ${account} WITH GRANT OPTION`;
}

/**
 * The GRANTEE information_schema.USER_PRIVILEGES names an account by: 'user'@'host', built by the server
 * without escaping (so only ever compared, never executed).
 */
export function granteeOf(user: string, host: string): string {
  return `'${user}'@'${host}'`;
}

const quoted = (names: readonly string[]) => names.map((name) => `'${name}'`).join(", ");

/**
 * One statement, for the init file (which runs with all privileges, before connections are accepted):
 * takes DENIED_PRIVILEGES away from every account and role in mysql.global_priv, whatever granted them
 * (the template's root account, a role of an older control plane, a hand-edited grant table). An account
 * the REVOKE fails for is skipped, not the rest. Kept on one line: the init file is read line by line.
 *
 * Only accounts that hold one of them are touched: the users the server itself lists with one
 * (information_schema, their privileges as loaded) and the roles whose row holds one (not listed there). A REVOKE
 * rewrites the account's row and flushes the Aria log even when there is nothing to take: done for every
 * account it cost a disk flush per account at every start (3-4 on a new compute), and a tenant with 30,000
 * accounts made a start take 80-100 s on a loaded machine.
 *
 * JSON_VALUE gives a JSON true as '1', not 'true' (which is what the version before this one compared with,
 * so it never revoked from a role). Roles are filtered like users, on the privilege bits their row holds
 * ($.access & DENIED_ACCESS_MASK): a tenant's 30,000 roles that hold none cost no REVOKE. A listed user is
 * revoked from as a user, a role as a role (a row that is both gets both; the form that does not apply fails
 * and is skipped). The listed users are a derived table joined to global_priv (materialized once): as an IN
 * subquery the server filled information_schema again for every account, and 30,000 accounts took minutes.
 */
export function revokeDeniedEverywhereSql(): string {
  const revoke = `REVOKE ${DENIED_PRIVILEGES.join(", ")} ON *.* FROM `;
  const isRole = "JSON_VALUE(g.Priv, '$.is_role') IN ('1', 'true')";
  const holdsDenied = `(CAST(JSON_VALUE(g.Priv, '$.access') AS UNSIGNED) & ${DENIED_ACCESS_MASK}) <> 0`;
  return [
    "BEGIN NOT ATOMIC",
    "DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;",
    `FOR a IN (SELECT g.User AS u, g.Host AS h, ${isRole} AS r, p.GRANTEE IS NOT NULL AS l FROM mysql.global_priv g`,
    `LEFT JOIN (SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN (${quoted(DENIED_PRIVILEGES)})) p`,
    "ON p.GRANTEE = CONCAT('''', g.User, '''@''', g.Host, '''')",
    `WHERE p.GRANTEE IS NOT NULL OR (${isRole} AND ${holdsDenied})) DO`,
    `IF a.l THEN EXECUTE IMMEDIATE CONCAT('${revoke}', QUOTE(a.u), '@', QUOTE(a.h)); END IF;`,
    `IF a.r THEN EXECUTE IMMEDIATE CONCAT('${revoke}', IF(a.u = 'PUBLIC', 'PUBLIC', QUOTE(a.u))); END IF;`,
    "END FOR;",
    "END;",
  ].join(" ");
}

/**
 * grantSql for an account as an IF statement (for a compound statement), run only when the account lacks
 * one of the privileges as the server has loaded them (`grantee`: granteeOf, as an SQL string): otherwise
 * it would rewrite the row and flush the Aria log for nothing.
 */
export function grantUnlessHeldSql(account: string, grantee: string): string {
  const held =
    "SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES " +
    `WHERE GRANTEE = ${grantee} AND IS_GRANTABLE = 'YES' AND PRIVILEGE_TYPE IN (${quoted(GRANTED_PRIVILEGES)})`;
  return `IF (${held}) < ${GRANTED_PRIVILEGES.length} THEN ${grantSql(account)}; END IF;`;
}

/**
 * A query counting 1 when the account's row in mysql.global_priv is as an ALTER USER ... IDENTIFIED left it:
 * `fields` (plugin, authentication_string, ...) and nothing else but its privileges, the server version that
 * wrote it and when, with a password that is not expired. 0 otherwise, also for a row MariaDB writes in
 * another form (another version): then the ALTER USER is run as it always was.
 */
export function accountAsSetSql(user: string, host: string, fields: Record<string, unknown>): string {
  return (
    `SELECT COUNT(*) FROM mysql.global_priv WHERE User = ${sqlString(user)} AND Host = ${sqlString(host)} ` +
    `AND JSON_EQUALS(JSON_REMOVE(Priv, '$.access', '$.version_id', '$.password_last_changed'), ${sqlString(JSON.stringify(fields))}) ` +
    "AND JSON_VALUE(Priv, '$.password_last_changed') <> '0'"
  );
}
