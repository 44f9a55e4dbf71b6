import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants as fsConstants, fchownSync, openSync, readFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";

// Processes are recognised through /proc only (never by connecting to them), so looking at a compute is cheap
// and is never mistaken for activity.
//
// A process's stat and command line are read synchronously: the kernel makes them up in memory (no disk),
// a read takes microseconds, and fs/promises' readFile would take five trips through libuv's thread pool
// (open, fstat, read, read, close), each waiting for the event loop: on a loaded machine a millisecond or
// more before a thaw's SIGCONT could go out (it is sent after the process is recognised).

/** A /proc file's text, or null when the process (or the file) is gone. */
function readProcFile(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

export interface ProcStat {
  /** One-letter state from /proc/<pid>/stat: R, S, D, T (stopped), t (traced), Z (zombie), ... */
  state: string;
  /** Clock ticks since boot at which the process started; with the pid it names one process for good. */
  startTime: number;
}

export async function readProcStat(pid: number): Promise<ProcStat | null> {
  const text = readProcFile(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (!state || !Number.isFinite(startTime)) return null;
  return { state, startTime };
}

export async function readCmdline(pid: number): Promise<string[] | null> {
  const raw = readProcFile(`/proc/${pid}/cmdline`);
  // A zombie has an empty cmdline: it is nobody's server any more.
  if (raw === null || raw.length === 0) return null;
  return raw.split("\0").filter((arg) => arg.length > 0);
}

export function isGone(stat: ProcStat | null): boolean {
  return stat === null || stat.state === "Z" || stat.state === "X" || stat.state === "x";
}

export function isStopped(stat: ProcStat): boolean {
  return stat.state === "T" || stat.state === "t";
}

/** The value of `--name=value` in an argument list. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  for (const arg of args) if (arg.startsWith(prefix)) return arg.slice(prefix.length);
  return undefined;
}

export interface ServerProcess {
  pid: number;
  stat: ProcStat;
  args: string[];
}

/**
 * The live process `pid` if it is a mariadbd serving `datadir` (and, when known, the very process that
 * started at `startTime`: pids are recycled).
 */
export async function serverProcess(
  pid: number,
  datadir: string,
  startTime?: number,
): Promise<ServerProcess | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const stat = await readProcStat(pid);
  if (isGone(stat) || stat === null) return null;
  if (startTime !== undefined && stat.startTime !== startTime) return null;
  const args = await readCmdline(pid);
  if (args === null || !isServerBinary(args[0]) || optionValue(args, "datadir") !== datadir) return null;
  return { pid, stat, args };
}

// The launcher, the sandbox's supervisor (bwrap) and setpriv carry the server's arguments in their own
// command lines too: only the server binary itself is the server.
function isServerBinary(arg0: string | undefined): boolean {
  const name = arg0 === undefined ? "" : arg0.slice(arg0.lastIndexOf("/") + 1);
  return name === "mariadbd" || name === "mysqld";
}

/** The real uid a process runs as, from /proc/<pid>/status; null when it is gone. */
export async function readUid(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^Uid:\s+(\d+)/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** `pid` and every process below it (children first found through /proc/<pid>/task/<tid>/children). */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    out.push(current);
    let tasks: string[];
    try {
      tasks = await readdir(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const children = await readFile(`/proc/${current}/task/${tid}/children`, "utf8").catch(() => "");
      for (const child of children.split(" ")) if (/^\d+$/.test(child)) queue.push(Number(child));
    }
  }
  return out;
}

/**
 * Every process is looked at: the last resort before starting a server, so that a lost pid file never
 * leads to a second mariadbd on the same data directory (it would unlink the first one's socket).
 */
export async function scanForServer(datadir: string): Promise<ServerProcess | null> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return null;
  }
  let looked = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    // The reads are synchronous: let the event loop run between batches of a long scan.
    if (++looked % 64 === 0) await new Promise((r) => setImmediate(r));
    const found = await serverProcess(Number(entry), datadir);
    if (found) return found;
  }
  return null;
}

/** Sends a signal; a process that is already gone is not an error (every caller wants it gone or changed). */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

export interface SpawnedServer {
  child: ChildProcess;
  pid: number;
  /** Set once the process has exited (exit code or signal name). */
  exited: () => string | null;
}

/**
 * Starts a server in its own session, output appended to `logPath`, not tied to this process: it outlives
 * the control plane, and a SIGSTOPped one is not continued by the kernel when its parent goes away
 * (an orphaned process group gets SIGHUP + SIGCONT; a session leader's own group is never orphaned that way).
 * The log file is opened here (never through a symbolic link) and given to `logOwner`, the OS user the
 * server drops to, which reopens it by name.
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  logPath: string,
  env: NodeJS.ProcessEnv,
  logOwner: { uid: number; gid: number } | null = null,
): SpawnedServer {
  const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW;
  const logFd = openSync(logPath, flags, 0o640);
  let child: ChildProcess;
  try {
    if (logOwner) fchownSync(logFd, logOwner.uid, logOwner.gid);
    child = spawn(command, args, { detached: true, stdio: ["ignore", logFd, logFd], env });
  } finally {
    closeSync(logFd);
  }
  let exit: string | null = null;
  child.on("exit", (code, sig) => {
    exit = sig ?? `exit code ${code ?? "?"}`;
  });
  // A spawn failure (ENOENT, EACCES) arrives as an event; without a listener it would crash the process.
  child.on("error", (err) => {
    exit ??= `spawn error: ${err.message}`;
  });
  child.unref();
  if (child.pid === undefined) {
    throw new Error(`could not start ${command}`);
  }
  return { child, pid: child.pid, exited: () => exit };
}

/** Polls /proc until `pid` (the one that started at `startTime`) has exited; false on timeout. */
export async function waitForExit(pid: number, startTime: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await readProcStat(pid);
    if (isGone(stat) || stat?.startTime !== startTime) return true;
    if (Date.now() >= deadline) return false;
    await delay(2);
  }
}

/** Polls /proc until the process state satisfies `want`; false on timeout or when the process is gone. */
export async function waitForState(
  pid: number,
  startTime: number,
  want: (stat: ProcStat) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await readProcStat(pid);
    if (stat === null || isGone(stat) || stat.startTime !== startTime) return false;
    if (want(stat)) return true;
    if (Date.now() >= deadline) return false;
    await delay(1);
  }
}
