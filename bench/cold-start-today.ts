import { DENIED_PRIVILEGES, grantSql } from "../server/compute/drivers/local/privileges";
import { sqlString } from "../server/compute/drivers/local/sql-quote";

// The init file as the driver wrote it before issue 12 (commit 50fd559), kept here so that bench:lifecycle
// can start the same data with it and print what the change saves. Every statement wrote at every start:
// a REVOKE for every account in mysql.global_priv, then ALTER USER and GRANT for the control plane's account.
// (Its role check compared JSON_VALUE with 'true', which never matched: roles were not revoked from.)
export function todaysInitFileSql(adminUser: string): string {
  const account = `${sqlString(adminUser)}@'localhost'`;
  const revoke = `REVOKE ${DENIED_PRIVILEGES.join(", ")} ON *.* FROM `;
  return [
    [
      "BEGIN NOT ATOMIC",
      "DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;",
      "FOR a IN (SELECT User AS u, Host AS h, JSON_VALUE(Priv, '$.is_role') AS r FROM mysql.global_priv) DO",
      `EXECUTE IMMEDIATE CONCAT('${revoke}',`,
      "IF(a.r = 'true', IF(a.u = 'PUBLIC', 'PUBLIC', QUOTE(a.u)), CONCAT(QUOTE(a.u), '@', QUOTE(a.h))));",
      "END FOR;",
      "END;",
    ].join(" "),
    `CREATE USER IF NOT EXISTS ${account} IDENTIFIED VIA unix_socket;`,
    `ALTER USER ${account} IDENTIFIED VIA unix_socket ACCOUNT UNLOCK;`,
    `${grantSql(account)};`,
    "",
  ].join("\n");
}
