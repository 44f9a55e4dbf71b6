import fs from "node:fs";
import path from "node:path";

// The embedded PostgreSQL's client authentication, written by the product at every start (and reloaded into a
// server that was already running), so a data directory made by an older version - whose initdb wrote
// `password` lines, and any `trust` line someone added - converges on the same rules. No `trust` anywhere:
// every account on the machine can reach 127.0.0.1, so every connection proves a password, stored and checked
// as SCRAM-SHA-256. The server listens on no Unix socket at all (unix_socket_directories is empty, see
// embedded-postgres.ts); the `local` line only keeps password checks if an operator turns one on.

export const PG_HBA_CONF = `# Written by the control plane at every start (server/db/pg-hba.ts): edits here are overwritten.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
`;

/**
 * Writes pg_hba.conf into the data directory unless it already says exactly that; returns whether it changed
 * (a running server then needs pg_reload_conf()). The file keeps the data directory's owner (the `postgres`
 * account when run as root), which the server needs to read it; the rename makes the change atomic.
 */
export function writePgHba(pgData: string): boolean {
  const file = path.join(pgData, "pg_hba.conf");
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, "utf8");
  } catch {
    current = undefined;
  }
  if (current === PG_HBA_CONF) return false;
  const owner = fs.statSync(pgData);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, PG_HBA_CONF, { mode: 0o600 });
  fs.chownSync(tmp, owner.uid, owner.gid);
  fs.renameSync(tmp, file);
  return true;
}
