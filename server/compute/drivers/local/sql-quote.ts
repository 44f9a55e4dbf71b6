// Literals and identifiers for the admin SQL the driver builds itself (DDL and account statements take no
// placeholders). The admin session pins sql_mode without NO_BACKSLASH_ESCAPES, so backslashes are escapes.

export function sqlString(value: string): string {
  if (value.includes("\0")) throw new Error("a NUL byte cannot be part of an SQL string");
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

export function sqlIdent(name: string): string {
  if (name.length === 0 || name.includes("\0")) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return `\`${name.replace(/`/g, "``")}\``;
}

/** A role's account: project roles are reachable from any host, with a password. */
export function roleAccount(role: string): string {
  return `${sqlString(role)}@'%'`;
}
