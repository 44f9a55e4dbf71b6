import type { ComputePaths } from "./paths";
import { grantSql, revokeDeniedEverywhereSql } from "./privileges";
import { sqlString } from "./sql-quote";

// How a compute's mariadbd is run. Everything is on the command line (--no-defaults): no my.cnf on the host
// can change a compute, and the arguments in /proc/<pid>/cmdline describe the running server completely,
// which is how a server is recognised and its port recovered after a control-plane restart.

/** InnoDB redo log size of the template and of every start; they must agree or InnoDB rebuilds the log. */
export const INNODB_LOG_FILE_SIZE = "8M";

const MIB_PER_CU = 128;
const MIN_BUFFER_POOL_MIB = 32;
const MAX_BUFFER_POOL_MIB = 2048;

/** 32M at 0.25 CU, 128M per CU above that, capped so a typo in `size` cannot eat the host. */
export function bufferPoolMiB(size: number): number {
  if (!Number.isFinite(size) || size <= 0) return MIN_BUFFER_POOL_MIB;
  return Math.min(MAX_BUFFER_POOL_MIB, Math.max(MIN_BUFFER_POOL_MIB, Math.round(size * MIB_PER_CU)));
}

export interface ServerArgsInput {
  paths: ComputePaths;
  host: string;
  port: number;
  size: number;
  /**
   * The OS user mariadbd drops to (--user), when it is started as root: an unprivileged account. null when
   * the control plane is not root: the server then runs as the control plane does.
   */
  osUser: string | null;
}

export function mariadbdArgs({ paths, host, port, size, osUser }: ServerArgsInput): string[] {
  return [
    // Must stay first: mariadbd only honours it as the first argument.
    "--no-defaults",
    `--datadir=${paths.data}`,
    `--socket=${paths.socket}`,
    `--pid-file=${paths.pidFile}`,
    `--log-error=${paths.errorLog}`,
    `--port=${port}`,
    `--bind-address=${host}`,
    `--init-file=${paths.initFile}`,
    `--secure-file-priv=${paths.files}`,
    ...(osUser === null ? [] : [`--user=${osUser}`]),
    // No table files outside the data directory: without it, CREATE TABLE ... DATA DIRECTORY (which needs
    // no FILE privilege) puts files in any directory the server's OS user may write, another compute's too.
    "--skip-symbolic-links",
    "--skip-name-resolve",
    // What a MariaDB user expects, not what --no-defaults gives (latin1, host time zone, 16M packets).
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--default-time-zone=+00:00",
    "--max-allowed-packet=64M",
    "--max-connections=151",
    // A committed row survives a crash of the process.
    "--innodb-flush-log-at-trx-commit=1",
    "--skip-log-bin",
    // Many computes share one machine: small memory and files.
    `--innodb-buffer-pool-size=${bufferPoolMiB(size)}M`,
    `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
    "--innodb-log-buffer-size=8M",
    // The default 12M temporary tablespace is written out in full at every start.
    "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",
    "--performance-schema=OFF",
    "--key-buffer-size=8M",
    "--aria-pagecache-buffer-size=8M",
  ];
}

/**
 * Run by mariadbd at every start with full privileges, before it accepts connections (and after it dropped
 * to its OS user: the file must be readable by that user). It takes the privileges no account may hold
 * away from all of them (privileges.ts), and brings the control plane's account back even if a tenant
 * (whose roles may manage users) dropped or changed it. That account is reachable only through the unix
 * socket, as the OS user the control plane runs as. Errors here are logged, not fatal. One statement per
 * line, the format init files have traditionally required.
 */
export function initFileSql(adminUser: string): string {
  const account = `${sqlString(adminUser)}@'localhost'`;
  return [
    revokeDeniedEverywhereSql(),
    `CREATE USER IF NOT EXISTS ${account} IDENTIFIED VIA unix_socket;`,
    `ALTER USER ${account} IDENTIFIED VIA unix_socket ACCOUNT UNLOCK;`,
    `${grantSql(account)};`,
    "",
  ].join("\n");
}
