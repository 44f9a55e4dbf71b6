import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { applyLimits, joinFiles } from "../server/compute/drivers/local/cgroups";
import { ensureComputeAccount } from "../server/compute/drivers/local/compute-account";
import { isolation } from "../server/compute/drivers/local/isolation";
import { computePaths } from "../server/compute/drivers/local/paths";
import { limitsForSize } from "../server/compute/drivers/local/resources";
import { ensureSandboxEtc, sandboxCommand } from "../server/compute/drivers/local/sandbox";
import type { OsAccount } from "../server/compute/drivers/local/os-user";
import { todaysInitFileSql } from "./cold-start-today";
import { findFreePort } from "../server/util/free-port";

// The cold-start baseline of issue 12: the very mariadbd command line the product runs for a compute,
// started bare on a copy of its data, exec -> `SELECT 1` over its socket, inside the same sandbox and
// resource limits as the compute (its OS account, its cgroups with the start's limits, bubblewrap showing
// only its directory, its own ext4 volume: the copy lives on it). No control plane, no driver: only the
// launch chain and the server. Variants of the command line and of the launch chain, one at a time, say
// what each setting and each layer costs.

/** Where the copy lives: inside the compute's own directory, so on its volume and in its sandbox's view. */
const COPY_DIR = "bare-start";
const POLL_MS = 1;

export interface BareCopy {
  computeId: string;
  /** DATA_DIR */
  dataDir: string;
  size: number;
  account: OsAccount;
  /** The server binary and its arguments, pointing at the copy. */
  binary: string;
  args: string[];
  socket: string;
  pidFile: string;
  errorLog: string;
  dir: string;
}

/**
 * Which layers of the launch chain to use (all: as the driver launches a compute). Without both, the server
 * still runs as the compute's account (setpriv), started by the same tiny shell.
 */
export interface Layers {
  cgroups: boolean;
  bwrap: boolean;
}

export const ALL_LAYERS: Layers = { cgroups: true, bwrap: true };

/**
 * Copies the stopped compute's data (and the files its command line names) to a directory on its own
 * volume, owned by its account, and returns its command line rewritten to the copy.
 */
export async function makeBareCopy(
  dataDir: string,
  computeId: string,
  size: number,
  commandLine: readonly string[],
  name = COPY_DIR,
): Promise<BareCopy> {
  const paths = computePaths(dataDir, computeId);
  const dir = path.join(paths.dir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  await run("cp", ["-a", "--reflink=auto", "--", paths.data, path.join(dir, "data")]);
  for (const sub of ["tmp", "files"]) fs.mkdirSync(path.join(dir, sub), { mode: 0o700 });
  fs.copyFileSync(paths.initFile, path.join(dir, "init.sql"));
  const account = await ensureComputeAccount(paths.dir);
  for (const entry of ["", "tmp", "files", "init.sql"]) fs.lchownSync(path.join(dir, entry), account.uid, account.gid);
  const port = await findFreePort();
  const [binary, ...rest] = commandLine;
  // The compute's files (or those of the copy the command line came from) -> the copy's.
  const from = path.dirname(rest.find((a) => a.startsWith("--datadir="))!.slice("--datadir=".length));
  const args = rest.map((a) => (a.startsWith("--port=") ? `--port=${port}` : a.split(`${from}/`).join(`${dir}/`)));
  return {
    computeId,
    dataDir,
    size,
    account,
    binary: binary!,
    args,
    socket: path.join(dir, "mysqld.sock"),
    pidFile: path.join(dir, "mysqld.pid"),
    errorLog: path.join(dir, "error.log"),
    dir,
  };
}

export function removeBareCopy(copy: BareCopy): void {
  fs.rmSync(copy.dir, { recursive: true, force: true });
  for (const group of [cpuGroup(copy), path.dirname(cpuGroup(copy))]) {
    try {
      fs.rmdirSync(group);
    } catch {
      // not made (no cpuacct controller), already gone, or still used by another copy
    }
  }
}

// CPU time is counted in a cpuacct group of the bench's own (the driver does not use that controller): on a
// shared machine the wall-clock time of a start moves with everyone else's load, its CPU time much less.
const CPUACCT = "/sys/fs/cgroup/cpuacct";

function cpuGroup(copy: BareCopy): string {
  return path.join(CPUACCT, "mariadb-serverless-bench", copy.computeId);
}

/** The bench's cpuacct group for this copy, its counter reset; null where there is no cpuacct controller. */
function resetCpuGroup(copy: BareCopy): string | null {
  try {
    fs.mkdirSync(cpuGroup(copy), { recursive: true });
    fs.writeFileSync(path.join(cpuGroup(copy), "cpuacct.usage"), "0");
    return path.join(cpuGroup(copy), "cgroup.procs");
  } catch {
    return null;
  }
}

function cpuMs(copy: BareCopy): number {
  try {
    return Number(fs.readFileSync(path.join(cpuGroup(copy), "cpuacct.usage"), "utf8")) / 1e6;
  } catch {
    return NaN;
  }
}

export interface BareRun {
  /** exec -> SELECT 1 answered over the socket */
  startMs: number;
  /** CPU time of the launch chain and the server from exec to the answer (cpuacct), NaN where not counted */
  cpuMs: number;
  /** SIGTERM -> the launch chain has exited */
  stopMs: number;
}

/**
 * One start of the copy with `args` (the copy's own unless given) through the chosen layers, then a clean
 * stop. The compute itself must be stopped: its cgroups are used.
 */
export async function bareRun(copy: BareCopy, { args = copy.args, layers = ALL_LAYERS, kill = false } = {}): Promise<BareRun> {
  fs.rmSync(copy.socket, { force: true });
  fs.rmSync(copy.pidFile, { force: true });
  const launch = await launchCommand(copy, args, layers, resetCpuGroup(copy));
  const started = performance.now();
  const child = spawn(launch.command, launch.args, { stdio: "ignore", detached: true });
  let startMs: number;
  let cpu: number;
  try {
    await answer(copy.socket, child);
    startMs = performance.now() - started;
    cpu = cpuMs(copy);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${tail(copy.errorLog)}`);
  }
  const pid = Number(fs.readFileSync(copy.pidFile, "utf8").trim());
  const stopping = performance.now();
  process.kill(pid, kill ? "SIGKILL" : "SIGTERM");
  if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  return { startMs, cpuMs: cpu, stopMs: performance.now() - stopping };
}

async function launchCommand(
  copy: BareCopy,
  args: string[],
  layers: Layers,
  cpuJoinFile: string | null,
): Promise<{ command: string; args: string[] }> {
  const found = await isolation();
  if (!found.tools) throw new Error("the sandboxed baseline needs root (the compute's account, cgroups, bubblewrap)");
  const limits = limitsForSize(copy.size);
  // As the driver's launch: limits applied, the CPU quota lifted while the server starts.
  await applyLimits(copy.computeId, limits, { liftCpu: true });
  const etcDir = path.join(path.resolve(copy.dataDir), "sandbox");
  await ensureSandboxEtc(etcDir, { name: userInfo().username, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  return sandboxCommand({
    tools: { ...found.tools, bwrap: layers.bwrap ? found.tools.bwrap : null },
    joinFiles: [...(layers.cgroups ? await joinFiles(copy.computeId) : []), ...(cpuJoinFile ? [cpuJoinFile] : [])],
    account: copy.account,
    computeDir: computePaths(copy.dataDir, copy.computeId).dir,
    etcDir,
    tmpBytes: limits.tmpBytes,
    command: copy.binary,
    args,
  });
}

/** Waits for the socket, then for `SELECT 1` over it as the control plane's account. */
async function answer(socket: string, child: ChildProcess): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited (${child.exitCode ?? child.signalCode})`);
    if (performance.now() > deadline) throw new Error("no answer within 30 s");
    if (fs.existsSync(socket)) {
      try {
        const conn = await mysql.createConnection({ socketPath: socket, user: userInfo().username, connectTimeout: 30_000 });
        try {
          await conn.query("SELECT 1");
          return;
        } finally {
          await conn.end().catch(() => conn.destroy());
        }
      } catch {
        // the socket is there before the server listens on it
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "";
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

// ---- what each setting and each layer costs: one change at a time against the shipped command line ----

export interface Variant {
  name: string;
  /** The init file's SQL for this variant (written beside the copy's own), for the control plane's user. */
  initFile?: (adminUser: string) => string;
  /** The command line's arguments for this variant, from the shipped ones. */
  args?: (shipped: string[]) => string[];
  layers?: Layers;
  /** The previous stop was a SIGKILL: the start recovers from the redo log. */
  afterKill?: boolean;
  /** Changes the files (the redo log's size): runs on a copy of its own, started once before it is timed. */
  ownCopy?: boolean;
}

/** `--name=value` set (replacing any `--name=...`, `--skip-name`, `--loose-name=...`). */
export function setFlag(args: readonly string[], name: string, value: string | null): string[] {
  const stem = name.replace(/^(loose-|skip-)/, "");
  const kept = args.filter((a) => !new RegExp(`^--(loose-|skip-)?${stem}(=|$)`).test(a));
  return value === null ? kept : [...kept, `--${name}=${value}`];
}

export interface VariantResult {
  variant: Variant;
  start: number[];
  cpu: number[];
  stop: number[];
  /** start minus the shipped start of the same round */
  delta: number[];
}

/**
 * Every variant `rounds` times, interleaved with the shipped command line (so that each round compares
 * starts made within a second of each other, whatever the machine's load does meanwhile).
 */
export async function measureVariants(base: BareCopy, variants: readonly Variant[], rounds: number): Promise<{ shipped: VariantResult; results: VariantResult[] }> {
  const copies = new Map<Variant, BareCopy>();
  const result = (variant: Variant): VariantResult => ({ variant, start: [], cpu: [], stop: [], delta: [] });
  const shipped = result({ name: "shipped" });
  const results = variants.map(result);
  try {
    for (const variant of variants) {
      if (!variant.ownCopy) continue;
      const copy = await makeBareCopy(base.dataDir, base.computeId, base.size, [base.binary, ...base.args], `${COPY_DIR}-${copies.size + 1}`);
      copies.set(variant, copy);
    }
    const argsOf = new Map<Variant, string[]>();
    for (const variant of variants) {
      const copy = copies.get(variant) ?? base;
      let args = variant.args ? variant.args(copy.args) : copy.args;
      if (variant.initFile) args = setFlag(args, "init-file", writeInitFile(copy, `init-${variants.indexOf(variant)}.sql`, variant.initFile(userInfo().username)));
      argsOf.set(variant, args);
    }
    const runOf = (variant: Variant) => bareRun(copies.get(variant) ?? base, { args: argsOf.get(variant), layers: variant.layers ?? ALL_LAYERS });
    // Started once untimed: a changed redo log size is applied by the first start.
    await bareRun(base);
    for (const variant of variants) await runOf(variant);
    for (let round = 0; round < rounds; round++) {
      const reference = await bareRun(base);
      for (const [key, value] of Object.entries({ start: reference.startMs, cpu: reference.cpuMs, stop: reference.stopMs })) shipped[key as "start"].push(value);
      for (const r of results) {
        // A crash first (SIGKILL), so that this start has to recover.
        if (r.variant.afterKill) await bareRun(copies.get(r.variant) ?? base, { kill: true });
        const run = await runOf(r.variant);
        r.start.push(run.startMs);
        r.cpu.push(run.cpuMs);
        r.stop.push(run.stopMs);
        r.delta.push(run.startMs - reference.startMs);
      }
    }
  } finally {
    for (const copy of copies.values()) removeBareCopy(copy);
  }
  return { shipped, results };
}

/** An init file in the copy's directory, readable by its account; returns its path. */
export function writeInitFile(copy: BareCopy, name: string, sql: string): string {
  const file = path.join(copy.dir, name);
  fs.writeFileSync(file, sql, { mode: 0o600 });
  fs.lchownSync(file, copy.account.uid, copy.account.gid);
  return file;
}

/** Each a change of one setting or one launch step against the shipped command line, with why it is there. */
export const VARIANTS: Variant[] = [
  { name: "init file as before: REVOKE from every account, ALTER USER + GRANT at every start", initFile: todaysInitFileSql },
  { name: "no init file at all", args: (a) => setFlag(a, "init-file", null) },
  { name: "buffer pool dump at stop + load at start on", args: (a) => setFlag(setFlag(a, "innodb-buffer-pool-dump-at-shutdown", "ON"), "innodb-buffer-pool-load-at-startup", "ON") },
  { name: "buffer pool dump + load off", args: (a) => setFlag(setFlag(a, "innodb-buffer-pool-dump-at-shutdown", "OFF"), "innodb-buffer-pool-load-at-startup", "OFF") },
  { name: "temporary tablespace at its default (12M, written at every start)", args: (a) => setFlag(a, "innodb-temp-data-file-path", null) },
  { name: "innodb_use_native_aio off (no io_uring)", args: (a) => setFlag(a, "innodb-use-native-aio", "OFF") },
  { name: "innodb_flush_method fsync (buffered, not O_DIRECT)", args: (a) => setFlag(a, "innodb-flush-method", "fsync") },
  { name: "innodb_log_file_size 2M", args: (a) => setFlag(a, "innodb-log-file-size", "2M"), ownCopy: true },
  { name: "innodb_log_file_size 96M (the default)", args: (a) => setFlag(a, "innodb-log-file-size", "96M"), ownCopy: true },
  { name: "start after a crash (SIGKILL: redo log recovery)", afterKill: true },
  { name: "performance_schema on", args: (a) => setFlag(a, "performance-schema", "ON") },
  { name: "launch without bubblewrap", layers: { cgroups: true, bwrap: false } },
  { name: "launch without joining cgroups", layers: { cgroups: false, bwrap: true } },
  { name: "launch as the account only (no bubblewrap, no cgroups)", layers: { cgroups: false, bwrap: false } },
];
