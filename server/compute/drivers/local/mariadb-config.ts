import type { ComputePaths } from "./paths";
import { limitsForSize } from "./resources";
import { accountAsSetSql, granteeOf, grantUnlessHeldSql, revokeDeniedEverywhereSql } from "./privileges";
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

/** Half of the compute's memory (resources.ts): the rest is for connections, sorts and the server itself. */
export function maxBufferPoolMiB(size: number): number {
  return Math.max(bufferPoolMiB(size), Math.floor(limitsForSize(size).memoryBytes / 2 / (1024 * 1024)));
}

export interface ServerArgsInput {
  paths: ComputePaths;
  host: string;
  port: number;
  size: number;
}

/**
 * The server settings of every compute whatever runs it (this driver's mariadbd, or the kubernetes driver's
 * container arguments): what a MariaDB user expects, small memory, durable commits.
 */
export function serverSettingsArgs(size: number): string[] {
  return [
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
    // The most SET GLOBAL innodb_buffer_pool_size may ask for (a tenant can reach SUPER: privileges.ts);
    // the cgroup's memory limit holds whatever it asks (resources.ts). "loose-": servers before 10.11.12
    // do not know the option and start without the cap.
    `--loose-innodb-buffer-pool-size-max=${maxBufferPoolMiB(size)}M`,
    // Cold start (bench:lifecycle measures each of these against the shipped line, one at a time): 2M or
    // the default 96M start no faster or slower after a clean stop (only the tail past the checkpoint is
    // read); what a large log would cost is the template's size and, after a crash, a longer recovery.
    `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
    "--innodb-log-buffer-size=8M",
    // The default 12M temporary tablespace is written out in full at every start (1M: one flush either way,
    // 11 MB less to write; within the noise of a start on this machine's disk, kept).
    "--innodb-temp-data-file-path=ibtmp1:1M:autoextend",
    // Left at their defaults, measured: the buffer pool's dump at stop and load at start (the load runs in
    // the background and a small pool's dump is a few KB: no difference to a start, and a woken compute
    // finds its pages again); native AIO with io_uring (turning it off changed nothing measurable);
    // innodb_flush_method O_DIRECT (fsync, buffered, was no faster). None of them trades durability.
    // Files grow by 8M, not 64M: on a small disk limit (volume.ts) a 64M preallocation fails long before
    // the disk is full.
    "--innodb-autoextend-increment=8",
    // ON doubles the CPU a start takes (about +50 ms on this machine) and its memory.
    "--performance-schema=OFF",
    "--key-buffer-size=8M",
    "--aria-pagecache-buffer-size=8M",
    ...SESSION_TRACKING_ARGS,
  ];
}

/**
 * Session tracking as the proxy's session follower needs it (proxy/session-state/tracking-settings.ts), as
 * every connection's default: the proxy then skips its own SET on each new compute connection and after
 * each COM_RESET_CONNECTION. It still checks that a connection has them (a compute started before this
 * line existed, or a tenant with SUPER who changed them: proxy/session-state/tracking-defaults.ts).
 */
export const SESSION_TRACKING_ARGS = [
  "--session-track-system-variables=*",
  "--session-track-schema=ON",
  "--session-track-state-change=ON",
  "--session-track-transaction-info=CHARACTERISTICS",
];

// No --user: started by root, the server is already its compute's own account when it executes (sandbox.ts
// drops to it with setpriv), which mariadbd's own --user (a setuid after reading its options) could not
// make as tight (supplementary groups, capabilities, no_new_privs).
export function mariadbdArgs({ paths, host, port, size }: ServerArgsInput): string[] {
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
    // Large temporary files on the compute's disk (counted in its storage); the sandbox's /tmp is small and
    // in memory.
    `--tmpdir=${paths.tmp}`,
    ...serverSettingsArgs(size),
  ];
}

/**
 * What the init file's ALTER USER leaves in the control plane's row of mysql.global_priv (MariaDB 10.11),
 * besides its privileges: a row that differs (another plugin or password, an alternative login, locked) is
 * altered again.
 */
const ADMIN_ACCOUNT = { plugin: "unix_socket", authentication_string: "", auth_or: [{}], account_locked: false };

/**
 * Run by mariadbd at every start with full privileges, before it accepts connections (and after it dropped
 * to its OS user: the file must be readable by that user). It takes the privileges no account may hold
 * away from all of them (privileges.ts), and brings the control plane's account back even if a tenant
 * (whose roles may manage users) dropped or changed it. That account is reachable only through the unix
 * socket, as the OS user the control plane runs as. Errors here are logged, not fatal. One statement per
 * line, the format init files have traditionally required.
 *
 * Each statement writes only when there is something to change: an account statement rewrites its row in
 * the grant tables and flushes the Aria log to disk, 5-6 flushes at every start when done unconditionally
 * (about 5 ms each on a compute's volume here; bench:lifecycle prints what the init file costs). When
 * nobody changed the accounts, the init file only reads.
 */
export function initFileSql(adminUser: string): string {
  const account = `${sqlString(adminUser)}@'localhost'`;
  const asLeft = accountAsSetSql(adminUser, "localhost", ADMIN_ACCOUNT);
  return [
    revokeDeniedEverywhereSql(),
    `CREATE USER IF NOT EXISTS ${account} IDENTIFIED VIA unix_socket;`,
    `BEGIN NOT ATOMIC IF (${asLeft}) = 0 THEN ALTER USER ${account} IDENTIFIED VIA unix_socket ACCOUNT UNLOCK; END IF; END;`,
    `BEGIN NOT ATOMIC ${grantUnlessHeldSql(account, sqlString(granteeOf(adminUser, "localhost")))} END;`,
    "",
  ].join("\n");
}
