import { constants as fsConstants, existsSync } from "node:fs";
import { chmod, lchown, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Connection } from "mysql2/promise";
import type {
  ComputeDriver,
  ComputeSpec,
  DriverState,
  Endpoint,
  HeldThread,
  InspectResult,
  RoleSpec,
  StartHooks,
  StartResult,
} from "../types";
import {
  assertRoles,
  countBesides,
  closeAdmin,
  connectAdmin,
  ensureDatabase,
  isAccessDenied,
  killSessions,
  syncRoleAccounts,
  userSessionIds,
  userSessions,
} from "./admin-sql";
import { findFreePort, isPortFree } from "../../../util/free-port";
import { logger } from "../../../logger";
import { TenantFacingError } from "../../../errors";
import { applyLimits, groupMembers, isInGroups, joinFiles, removeGroups, restrictCpu } from "./cgroups";
import { ensureComputeAccount, removeComputeAccount, sweepOrphanAccounts } from "./compute-account";
import { isolation } from "./isolation";
import { bufferPoolMiB, initFileSql, mariadbdArgs } from "./mariadb-config";
import { chownTree, computeAccount, makeDirs, passableDir, type OsAccount } from "./os-user";
import { computePaths, type ComputePaths } from "./paths";
import { limitsForSize } from "./resources";
import { ensureSandboxEtc, sandboxCommand, type SandboxCommandInput } from "./sandbox";
import { ensureVolume, removeVolume, usedBytes } from "./volume";
import {
  isGone,
  processTree,
  readUid,
  isStopped,
  optionValue,
  readProcStat,
  scanForServer,
  serverProcess,
  signal,
  waitForExit,
  waitForState,
  type ServerProcess,
} from "./process";
import { parseState, toDriverState, type LocalState } from "./state";
import { copyTemplate, ensureTemplate, mariadbVersion } from "./template";
import { launchDetached, warmLauncher } from "./spawner";

/** The parts of a sandbox's command line read at each start (sandboxParts). */
type SandboxParts = Pick<SandboxCommandInput, "tools" | "joinFiles" | "etcDir">;

export interface LocalDriverOptions {
  /** DATA_DIR: computes live in `<dataDir>/computes/<id>`, templates in `<dataDir>/templates`. */
  dataDir: string;
  /** Address the servers listen on and the endpoint handed to the proxy. */
  host?: string;
  mariadbdPath?: string;
  installDbPath?: string;
  /** How long a start may take until the server accepts queries. */
  startTimeoutMs?: number;
  /** How long a clean shutdown may take before the server is killed. */
  stopTimeoutMs?: number;
}

// Readiness is polled, not slept for: a stock server accepts queries ~390 ms after exec here.
const READY_POLL_MS = 10;
// The socket appears once and connections queue on it until the server is ready, so it is looked for often:
// at 10 ms a cold start waited 5 ms on average for nothing; a stat every millisecond costs nothing measurable
// (made synchronously: a stat of a directory entry takes microseconds, the thread pool's round trip more).
const SOCKET_POLL_MS = 1;
const SIGNAL_TIMEOUT_MS = 5_000;
const KILL_TIMEOUT_MS = 10_000;
const ADMIN_CONNECT_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;
const ERROR_LOG_ROTATE_BYTES = 16 * 1024 * 1024;
/** A compute's disk limit when its spec names none (the free plan's). */
const DEFAULT_STORAGE_LIMIT_BYTES = 1024 * 1024 * 1024;

// One operation at a time per compute within this process (also across driver instances): a stop must not
// interleave with a start of the same server. Across processes the state machine's compare-and-set rules.
const queues = new Map<string, Promise<void>>();

function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(fn);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function fileSize(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
}

/** The last lines mariadbd wrote since `offset`: what a person needs to see when a start fails. */
async function logTail(p: string, offset: number, maxBytes = 4096): Promise<string> {
  try {
    // Not through a symbolic link: the directory belongs to the servers' account.
    const handle = await open(p, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const size = (await handle.stat()).size;
      const from = Math.max(offset, size - maxBytes);
      const buffer = Buffer.alloc(Math.max(0, size - from));
      await handle.read(buffer, 0, buffer.length, from);
      return buffer.toString("utf8").trim().split("\n").slice(-25).join("\n");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

async function readPid(pidFile: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

class AdminRefused extends Error {}

/**
 * A server that did not come up. The message is what the tenant sees (in the failed operation): a cause it
 * can act on, without the host's paths and pids. The error log's tail is for operators: it is logged,
 * never shown.
 */
export class ComputeStartError extends TenantFacingError {
  constructor(
    readonly computeId: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(publicStartFailure(reason, logTail));
    this.name = "ComputeStartError";
    logger.error({ computeId, reason, errorLog: logTail }, "compute server did not start");
  }
}

function publicStartFailure(reason: string, tail: string): string {
  const errors = tail
    .split("\n")
    .filter((line) => /\[ERROR\]|Out of memory|Cannot allocate/i.test(line))
    .join("\n");
  if (/Out of memory|Cannot allocate memory|mmap\(.*\) failed/i.test(errors)) {
    return "the MariaDB server ran out of memory while starting; choose a larger compute size";
  }
  if (/No space left on device|Disk full|Out of disk space|Errcode: 28|error 28\b/i.test(errors)) {
    return "the MariaDB server could not start because its storage is full";
  }
  if (/privilege tables|mysql\.\w+' doesn't exist/i.test(errors)) {
    return "the MariaDB server could not start: its system tables (the mysql schema) are damaged or missing; contact support";
  }
  if (/InnoDB|Aria|corrupt|crashed/i.test(errors)) {
    return "the MariaDB server could not open its data files while starting; contact support if it keeps failing";
  }
  if (/not accepting queries after/.test(reason)) {
    return "the MariaDB server did not accept connections in time while starting; try again, and contact support if it keeps failing";
  }
  return "the MariaDB server stopped while starting; try again, and contact support if it keeps failing";
}

export class LocalDriver implements ComputeDriver {
  readonly name = "local";
  private readonly dataDir: string;
  private readonly host: string;
  private readonly mariadbdPath: string;
  private readonly installDbPath: string;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  /** The control plane's account on every compute: its own OS user, authenticated by unix_socket. */
  private readonly adminUser = userInfo().username;
  /** The sweep of orphaned compute accounts, once per driver (compute-account.ts). */
  private sweep: Promise<number> | null = null;
  // Servers get no secrets from our environment (DATABASE_URL, ...); UTC makes their log times comparable.
  private readonly env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    TZ: "UTC",
    LANG: "C",
    NODE_ENV: process.env.NODE_ENV,
  };

  constructor(options: LocalDriverOptions) {
    this.dataDir = options.dataDir;
    this.host = options.host ?? "127.0.0.1";
    this.mariadbdPath = options.mariadbdPath ?? "/usr/sbin/mariadbd";
    this.installDbPath = options.installDbPath ?? "/usr/bin/mariadb-install-db";
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
    warmLauncher(); // the process that forks servers, ready before the first cold start (spawner.ts)
  }

  async start(spec: ComputeSpec, previous: DriverState | null, hooks: StartHooks = {}): Promise<StartResult> {
    const paths = computePaths(this.dataDir, spec.computeId);
    assertRoles(spec.roles);
    return exclusive(paths.dir, async () => {
      const prior = parseState(previous);
      const deadline = Date.now() + this.startTimeoutMs;
      // Already running (started by us earlier, or by a control plane that has since restarted): adopt it.
      // Both looked up side by side: neither depends on the other (the account's look-up at most makes the
      // compute's directory, which a server of it would already have).
      const [account, found] = await Promise.all([this.accountFor(paths), this.find(paths, prior, true)]);
      let running = found;
      // The compute's own file system, whose size is its disk limit (volume.ts); made on its first start.
      // The parents' check and the volume are independent (the mount is below the parents): side by side.
      if (account) {
        await Promise.all([
          passableDir(path.dirname(paths.dir), account, `DATA_DIR ${path.resolve(this.dataDir)}`),
          ensureVolume(paths.dir, spec.storageLimitBytes ?? DEFAULT_STORAGE_LIMIT_BYTES, { inUse: running !== null }),
        ]);
      }
      // A server started at another size (the compute was resized: apply-size.ts), or before this compute had
      // its own account and sandbox (an older control plane), is restarted rather than adopted as it is.
      if (running && !(await this.fits(running, account, spec))) {
        await this.terminate(running, "SIGTERM", this.stopTimeoutMs);
        running = null;
      }
      if (running) {
        if (account) await applyLimits(spec.computeId, limitsForSize(spec.size));
        if (isStopped(running.stat)) await this.resume(running);
        try {
          const conn = await this.waitUntilReady(paths, deadline, async () =>
            (await serverProcess(running.pid, paths.data, running.stat.startTime)) ? null : "the server exited",
          );
          await this.provision(conn, spec);
          return this.describe(running, paths, prior);
        } catch (err) {
          // A tenant removed or changed the control plane's account: a restart runs the init file, which
          // restores it. Anything else is reported.
          if (!(err instanceof AdminRefused)) throw err;
          await this.terminate(running, "SIGTERM", this.stopTimeoutMs);
        }
      }
      await this.ensureData(paths, account);
      return this.launch(spec, paths, prior, deadline, account, hooks);
    });
  }

  async stop(computeId: string, state: DriverState | null): Promise<void> {
    const paths = computePaths(this.dataDir, computeId);
    await exclusive(paths.dir, async () => {
      const running = await this.find(paths, parseState(state), true);
      // Its (empty) cgroups stay for its next start and go with the compute (destroy).
      if (running) await this.terminate(running, "SIGTERM", this.stopTimeoutMs);
    });
  }

  async pause(computeId: string, state: DriverState | null): Promise<void> {
    const paths = computePaths(this.dataDir, computeId);
    await exclusive(paths.dir, async () => {
      const running = await this.requireRunning(computeId, paths, state);
      if (isStopped(running.stat)) return;
      signal(running.pid, "SIGSTOP");
      if (!(await waitForState(running.pid, running.stat.startTime, isStopped, SIGNAL_TIMEOUT_MS))) {
        throw new Error(`compute ${computeId}: mariadbd (pid ${running.pid}) did not stop on SIGSTOP`);
      }
    });
  }

  async unpause(computeId: string, state: DriverState | null): Promise<void> {
    const paths = computePaths(this.dataDir, computeId);
    await exclusive(paths.dir, async () => {
      const running = await this.requireRunning(computeId, paths, state);
      await this.resume(running);
    });
  }

  async destroy(computeId: string, state: DriverState | null): Promise<void> {
    const paths = computePaths(this.dataDir, computeId);
    await exclusive(paths.dir, async () => {
      const running = await this.find(paths, parseState(state), true);
      // The data goes away anyway: no clean shutdown needed.
      if (running) await this.terminate(running, "SIGKILL", KILL_TIMEOUT_MS);
      if ((await isolation()).accounts) await removeVolume(paths.dir);
      await rm(paths.dir, { recursive: true, force: true });
      await removeGroups(computeId);
      if ((await isolation()).accounts) await removeComputeAccount(paths.dir);
    });
  }

  async inspect(computeId: string, state: DriverState | null): Promise<InspectResult> {
    const paths = computePaths(this.dataDir, computeId);
    const prior = parseState(state);
    const running = await this.find(paths, prior, false);
    if (running) {
      const { endpoint, driverState } = await this.describe(running, paths, prior);
      return { status: isStopped(running.stat) ? "paused" : "running", endpoint, driverState };
    }
    if (!(await exists(paths.data))) return { status: "missing", endpoint: null, driverState: null };
    // Kept so that the next start can listen on the same port again.
    const driverState =
      prior.port === null ? null : toDriverState({ ...prior, pid: null, procStartTime: null, startedAt: null });
    return { status: "stopped", endpoint: null, driverState };
  }

  async syncRoles(
    computeId: string,
    state: DriverState | null,
    database: string,
    roles: RoleSpec[],
  ): Promise<void> {
    assertRoles(roles);
    await this.withAdmin(computeId, state, async (conn) => {
      await ensureDatabase(conn, database);
      await syncRoleAccounts(conn, roles);
    });
  }

  async storageBytes(computeId: string): Promise<number | null> {
    return usedBytes(computePaths(this.dataDir, computeId).dir);
  }

  localSocket(state: DriverState | null): string | null {
    return parseState(state).socket;
  }

  async countUserSessions(computeId: string, state: DriverState | null, besides: readonly HeldThread[] = []): Promise<number> {
    return this.withAdmin(computeId, state, async (conn) => countBesides(await userSessions(conn, this.adminUser), besides));
  }

  async killUserSessions(computeId: string, state: DriverState | null): Promise<void> {
    await this.withAdmin(computeId, state, async (conn) => {
      await killSessions(conn, await userSessionIds(conn, this.adminUser));
      // KILL only flags a session; wait (briefly) until they are really gone so a stop that follows is clean.
      const deadline = Date.now() + SIGNAL_TIMEOUT_MS;
      for (;;) {
        const left = await userSessionIds(conn, this.adminUser);
        if (left.length === 0) return;
        if (Date.now() >= deadline) {
          throw new Error(`compute ${computeId}: sessions ${left.join(", ")} are still open after KILL`);
        }
        await killSessions(conn, left);
        await delay(READY_POLL_MS);
      }
    });
  }

  /**
   * The compute's server process: from the stored pid, else the pid file, else (if `scan`: before a start
   * or a stop, so that a lost pid file never leads to a second server on the same data) the processes that
   * could be it. Where there are cgroups those are the members of the compute's (a launch joins them before
   * it execs, so a server still starting is among them): one small read. Every process's command line is
   * read instead only without cgroups, or when the socket is still there (a server that crashed, or one
   * launched before there were cgroups, and lost its pid file): that cost 30-90 ms of every cold start on a
   * loaded machine (bench:lifecycle).
   */
  private async find(paths: ComputePaths, prior: LocalState, scan: boolean): Promise<ServerProcess | null> {
    if (prior.pid !== null) {
      const found = await serverProcess(prior.pid, paths.data, prior.procStartTime ?? undefined);
      if (found) return found;
    }
    const pid = await readPid(paths.pidFile);
    if (pid !== null) {
      const found = await serverProcess(pid, paths.data);
      if (found) return found;
    }
    if (!scan) return null;
    const members = await groupMembers(path.basename(paths.dir));
    if (members === null || (await exists(paths.socket))) return scanForServer(paths.data);
    for (const member of members) {
      const found = await serverProcess(member, paths.data);
      if (found) return found;
    }
    return null;
  }

  private async requireRunning(
    computeId: string,
    paths: ComputePaths,
    state: DriverState | null,
  ): Promise<ServerProcess> {
    const running = await this.find(paths, parseState(state), false);
    if (!running) throw new Error(`compute ${computeId} has no running mariadbd`);
    return running;
  }

  /** Endpoint and state of a running server, read from its own command line. */
  private async describe(running: ServerProcess, paths: ComputePaths, prior: LocalState): Promise<StartResult> {
    const port = Number(optionValue(running.args, "port"));
    const host = optionValue(running.args, "bind-address") ?? this.host;
    const same = prior.pid === running.pid && prior.procStartTime === running.stat.startTime;
    let startedAt = same ? prior.startedAt : null;
    if (startedAt === null) {
      // mariadbd writes its pid file while starting: close enough for an adopted server.
      startedAt = await stat(paths.pidFile).then(
        (s) => s.mtime.toISOString(),
        () => new Date().toISOString(),
      );
    }
    const endpoint: Endpoint = { host, port };
    const version = prior.mariadbVersion ?? (await mariadbVersion(this.mariadbdPath, this.env).catch(() => null));
    const driverState = toDriverState({
      pid: running.pid,
      procStartTime: running.stat.startTime,
      port,
      host,
      dataDir: paths.data,
      socket: paths.socket,
      startedAt,
      mariadbVersion: version,
    });
    return { endpoint, driverState };
  }

  /**
   * The OS account the compute's server runs as: its own (compute-account.ts) when the control plane is
   * root, null otherwise (the server then runs as the control plane does, and start-up says so). The first
   * call in a process also removes the accounts of computes whose directories are gone.
   */
  private async accountFor(paths: ComputePaths): Promise<OsAccount | null> {
    const found = await isolation();
    if (!found.accounts) return null;
    this.sweep ??= sweepOrphanAccounts().catch(() => 0);
    await this.sweep;
    // The directory exists before its account does: another process's sweep removes only accounts whose
    // directory is gone, so it can never take an account being made (and let its uid be handed out again).
    await makeDirs(path.dirname(paths.dir), 0o755);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    return ensureComputeAccount(paths.dir);
  }

  /**
   * Whether a running server is what `spec` asks for: started for its size, and in its compute's account
   * and cgroups when there are any (not left by an older launcher).
   */
  private async fits(running: ServerProcess, account: OsAccount | null, spec: ComputeSpec): Promise<boolean> {
    if (optionValue(running.args, "innodb-buffer-pool-size") !== `${bufferPoolMiB(spec.size)}M`) return false;
    if (!account) return true;
    return (await readUid(running.pid)) === account.uid && (await isInGroups(running.pid, spec.computeId));
  }

  /**
   * A data directory for the compute, copied from the template the first time. With an `account`, the
   * compute's directory and all in it are the account's, mode 0700: the compute's own account is the only
   * one (besides the control plane) that can enter it.
   */
  private async ensureData(paths: ComputePaths, account: OsAccount | null): Promise<void> {
    // With an account, start() has checked the parents already (beside the volume).
    if (!account) await passableDir(path.dirname(paths.dir), account, `DATA_DIR ${path.resolve(this.dataDir)}`);
    // Each directory made and handed to the account side by side (they are independent; each step waits on
    // the file system), with the look at the data.
    const [data] = await Promise.all([
      stat(paths.data).catch(() => null),
      ...[paths.files, paths.tmp].map(async (dir) => {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        if (account) await lchown(dir, account.uid, account.gid);
      }),
      // The root of a fresh file system is 0755.
      account ? lchown(paths.dir, account.uid, account.gid).then(() => chmod(paths.dir, 0o700)) : null,
    ]);
    if (data) {
      // A compute made when the servers ran as root or as one shared account (older versions), or whose
      // account was re-created with another uid: its data is handed over once. The rest of the directory is
      // made anew at each start (init file, socket, pid file) or re-owned then (error log); a rotated
      // error.log.1 may stay root's, mariadbd never opens it.
      if (account && data.uid !== account.uid) await chownTree(paths.data, account);
      return;
    }
    const template = await ensureTemplate({
      dataDir: this.dataDir,
      mariadbdPath: this.mariadbdPath,
      installDbPath: this.installDbPath,
      adminUser: this.adminUser,
      // Built by the shared unprivileged account (no tenant input runs there), then made root's.
      account: account ? await computeAccount() : null,
      env: this.env,
    });
    await copyTemplate(template, paths.data, account, this.env);
  }

  private async launch(
    spec: ComputeSpec,
    paths: ComputePaths,
    prior: LocalState,
    deadline: number,
    account: OsAccount | null,
    hooks: StartHooks,
  ): Promise<StartResult> {
    const limits = limitsForSize(spec.size);
    // The steps before the exec are independent of each other, and each waits on the disk or the kernel: they
    // run side by side (on a loaded machine one after the other cost several milliseconds of every cold start).
    // The sandbox's pieces (its /etc, the cgroup files to join) are independent of the rest and of the port.
    const sandbox = this.sandboxParts(spec.computeId, account);
    const [, logOffset0] = await Promise.all([
      // Written anew (never through whatever is at that path now) and readable by the account: mariadbd
      // reads its init file after dropping to it.
      (async () => {
        await rm(paths.initFile, { force: true });
        await writeFile(paths.initFile, initFileSql(this.adminUser), { mode: 0o600, flag: "wx" });
        if (account) await lchown(paths.initFile, account.uid, account.gid);
      })(),
      // Where this start's lines begin in the error log (rotated first when it grew too large).
      (async () => {
        const size = await fileSize(paths.errorLog);
        if (size <= ERROR_LOG_ROTATE_BYTES) return size;
        await rename(paths.errorLog, `${paths.errorLog}.1`);
        return 0;
      })(),
      // The start itself runs without the CPU quota: at a quarter of a core it would take four times as long.
      account ? applyLimits(spec.computeId, limits, { liftCpu: true }) : null,
      sandbox,
    ]);
    let logOffset = logOffset0;
    for (let attempt = 1; ; attempt++) {
      // The same port as last time keeps the endpoint stable for clients that cached it. Leftovers of a
      // crash go meanwhile: a stale socket would be mistaken for readiness, a stale pid file for a server.
      const [port] = await Promise.all([
        (async () =>
          attempt === 1 && prior.port !== null && (await isPortFree(prior.port, this.host)) ? prior.port : await findFreePort(this.host))(),
        rm(paths.socket, { force: true }),
        rm(paths.pidFile, { force: true }),
        // A retry's lines begin where the failed attempt's ended.
        attempt > 1 ? fileSize(paths.errorLog).then((size) => (logOffset = size)) : null,
      ]);
      const startedAt = new Date().toISOString();
      const args = mariadbdArgs({ paths, host: this.host, port, size: spec.size });
      const launch = this.launchCommand(await sandbox, paths, account, limits.tmpBytes, args);
      const server = await launchDetached(launch.command, launch.args, paths.errorLog, this.env, account);
      const stat0 = await readProcStat(server.pid);
      let conn: Connection;
      try {
        conn = await this.waitUntilReady(paths, deadline, async () => {
          const exited = server.exited();
          if (exited) return `mariadbd exited (${exited})`;
          return isGone(await readProcStat(server.pid)) ? "mariadbd exited" : null;
        });
      } catch (err) {
        // A server that did not come up is not left behind half-started (nor its sandbox).
        if (stat0 && !isGone(stat0)) await this.killTree(server.pid, stat0.startTime);
        const tail = await logTail(paths.errorLog, logOffset);
        // Someone took the port between our probe and mariadbd's bind: another port will do.
        const portTaken = /Address already in use|Bind on TCP\/IP port/i.test(tail);
        if (portTaken && attempt < START_ATTEMPTS && Date.now() < deadline) continue;
        throw new ComputeStartError(spec.computeId, err instanceof Error ? err.message : String(err), tail);
      }
      // The roles it answers to are those of its data (last applied at its previous start, or since): a
      // client's login may begin while they are brought up to date and the start is recorded. (If the start
      // fails after all, the caller does not keep that login: the start is not recorded at this address.)
      hooks.onReady?.({ host: this.host, port, socketPath: paths.socket });
      // The launcher (sandbox supervisor) is not the server: the server names itself in its pid file. Read
      // beside the set-up over the admin connection and the CPU quota (each waits on something else).
      const [found, setUp] = await Promise.allSettled([
        readPid(paths.pidFile).then(async (pid) => ({ pid: pid ?? server.pid, running: await serverProcess(pid ?? server.pid, paths.data) })),
        (async () => {
          await Promise.all([this.provision(conn, spec), account ? restrictCpu(spec.computeId, limits) : null]);
        })(),
      ]);
      const running = found.status === "fulfilled" ? found.value.running : null;
      if (!running) {
        // The set-up has closed the admin connection either way.
        const pid = found.status === "fulfilled" ? found.value.pid : server.pid;
        if (stat0 && !isGone(stat0)) await this.killTree(server.pid, stat0.startTime);
        throw new Error(`compute ${spec.computeId}: mariadbd (pid ${pid}) vanished after start`);
      }
      try {
        if (setUp.status === "rejected") throw setUp.reason;
      } catch (err) {
        // We started it for this start; a start that failed leaves no server running.
        await this.terminate(running, "SIGTERM", this.stopTimeoutMs);
        throw new Error(
          `compute ${spec.computeId}: could not set up the database and roles: ${(err as Error).message}`,
        );
      }
      hooks.onServing?.();
      return this.describe(running, paths, {
        ...prior,
        pid: running.pid,
        procStartTime: running.stat.startTime,
        startedAt,
      });
    }
  }

  /**
   * mariadbd itself when the control plane is not root; otherwise mariadbd inside the compute's cgroups,
   * sandbox and account (sandbox.ts).
   */
  private launchCommand(
    sandbox: SandboxParts | null,
    paths: ComputePaths,
    account: OsAccount | null,
    tmpBytes: number,
    args: string[],
  ): { command: string; args: string[] } {
    if (!account || !sandbox) return { command: this.mariadbdPath, args };
    return sandboxCommand({ ...sandbox, account, computeDir: paths.dir, tmpBytes, command: this.mariadbdPath, args });
  }

  /** What the sandbox's command line needs besides the port (null: no sandbox, see launchCommand). */
  private async sandboxParts(computeId: string, account: OsAccount | null): Promise<SandboxParts | null> {
    const found = await isolation();
    if (!account || !found.tools) return null;
    const etcDir = path.join(path.resolve(this.dataDir), "sandbox");
    const [, files] = await Promise.all([
      ensureSandboxEtc(etcDir, { name: this.adminUser, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }),
      joinFiles(computeId),
    ]);
    return { tools: found.tools, joinFiles: files, etcDir };
  }

  /** SIGKILL for a launch and everything it started (the sandbox's supervisor and the server in it). */
  private async killTree(pid: number, startTime: number): Promise<void> {
    const stat = await readProcStat(pid);
    if (!stat || stat.startTime !== startTime) return;
    const tree = await processTree(pid);
    for (const member of tree.reverse()) {
      signal(member, "SIGCONT");
      signal(member, "SIGKILL");
    }
    await waitForExit(pid, startTime, KILL_TIMEOUT_MS);
  }

  /**
   * Polls the unix socket until the server answers our admin login. `dead` says why the server cannot come
   * up any more (exited), so a failed start is reported at once and not after the timeout.
   */
  private async waitUntilReady(
    paths: ComputePaths,
    deadline: number,
    dead: () => Promise<string | null>,
  ): Promise<Connection> {
    let lastError: unknown = null;
    for (;;) {
      const why = await dead();
      if (why) throw new Error(why);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
        throw new Error(`not accepting queries after ${this.startTimeoutMs} ms${detail}`);
      }
      if (existsSync(paths.socket)) {
        try {
          // Connections queue on the socket until the server has run its init file and accepts them.
          return await connectAdmin(paths.socket, this.adminUser, remaining);
        } catch (err) {
          if (isAccessDenied(err)) {
            throw new AdminRefused(
              `the control plane's account ${this.adminUser}@localhost is refused: ${(err as Error).message}`,
            );
          }
          lastError = err;
        }
      }
      await delay(SOCKET_POLL_MS);
    }
  }

  private async provision(conn: Connection, spec: ComputeSpec): Promise<void> {
    try {
      await ensureDatabase(conn, spec.database);
      await syncRoleAccounts(conn, spec.roles);
    } finally {
      await closeAdmin(conn);
    }
  }

  private async resume(running: ServerProcess): Promise<void> {
    signal(running.pid, "SIGCONT");
    const ok = await waitForState(running.pid, running.stat.startTime, (s) => !isStopped(s), SIGNAL_TIMEOUT_MS);
    if (!ok) throw new Error(`mariadbd (pid ${running.pid}) did not continue after SIGCONT`);
  }

  /** Ends the server with `sig`, SIGKILL after `timeoutMs`; resolves once the process (and its port) is gone. */
  private async terminate(running: ServerProcess, sig: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const { pid } = running;
    const { startTime } = running.stat;
    // A stopped mariadbd acts on SIGTERM only once continued.
    signal(pid, "SIGCONT");
    signal(pid, sig);
    if (await waitForExit(pid, startTime, timeoutMs)) return;
    signal(pid, "SIGKILL");
    if (!(await waitForExit(pid, startTime, KILL_TIMEOUT_MS))) {
      throw new Error(`mariadbd (pid ${pid}) is still alive after SIGKILL`);
    }
  }

  private async withAdmin<T>(
    computeId: string,
    state: DriverState | null,
    fn: (conn: Connection) => Promise<T>,
  ): Promise<T> {
    const paths = computePaths(this.dataDir, computeId);
    const running = await this.requireRunning(computeId, paths, state);
    // A frozen server would hold the connection until the timeout.
    if (isStopped(running.stat)) throw new Error(`compute ${computeId} is paused`);
    const conn = await connectAdmin(paths.socket, this.adminUser, ADMIN_CONNECT_TIMEOUT_MS);
    try {
      return await fn(conn);
    } finally {
      await closeAdmin(conn);
    }
  }
}
