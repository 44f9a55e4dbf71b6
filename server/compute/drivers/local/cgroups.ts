import { access, constants as fsConstants, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { ComputeLimits } from "./resources";

// CPU, memory and process limits of one compute, in cgroup v1 (what this kind of machine mounts under
// /sys/fs/cgroup/<controller>, writable by root). Every compute has a group of its own in each controller,
// `<controller>/mariadb-serverless/<computeId>`; the server joins them before it executes (the launcher
// writes its own pid into each group's cgroup.procs and then execs), so every thread and child it ever has
// is inside from its first instruction.
//
// cgroup v2 (a unified hierarchy with controllers) would be the same idea with other file names; it is not
// what this machine offers, and a machine without writable v1 controllers runs computes without limits
// and says so at start-up (isolation.ts).

const ROOT = "/sys/fs/cgroup";
const PARENT = "mariadb-serverless";
const CFS_PERIOD_US = 100_000;

export type Controller = "cpu" | "memory" | "pids";
const CONTROLLERS: Controller[] = ["cpu", "memory", "pids"];

let available: Promise<Controller[]> | null = null;

/** The v1 controllers this process can create groups in (root, mounted, writable). */
export function availableControllers(): Promise<Controller[]> {
  available ??= (async () => {
    if (process.getuid?.() !== 0) return [];
    const found: Controller[] = [];
    for (const controller of CONTROLLERS) {
      const dir = path.join(ROOT, controller);
      try {
        await access(path.join(dir, "cgroup.procs"), fsConstants.W_OK);
        await mkdir(path.join(dir, PARENT), { recursive: true });
        found.push(controller);
      } catch {
        // not mounted as v1, or read-only: that limit is not enforced (reported at start-up)
      }
    }
    return found;
  })();
  return available;
}

function groupDir(controller: Controller, computeId: string): string {
  return path.join(ROOT, controller, PARENT, computeId);
}

async function write(file: string, value: string | number): Promise<void> {
  await writeFile(file, String(value));
}

/** Files whose writing moves a process into the compute's groups: what the launcher writes its pid into. */
export async function joinFiles(computeId: string): Promise<string[]> {
  return (await availableControllers()).map((c) => path.join(groupDir(c, computeId), "cgroup.procs"));
}

/**
 * Creates the compute's groups (when missing) and sets its limits. With `liftCpu` the CPU quota is left
 * open: a start runs at full speed (at a quarter of a core a cold start would take four times as long), and
 * restrictCpu() sets the quota once the server answers.
 */
export async function applyLimits(computeId: string, limits: ComputeLimits, { liftCpu = false } = {}): Promise<void> {
  const controllers = await availableControllers();
  for (const controller of controllers) await mkdir(groupDir(controller, computeId), { recursive: true });
  if (controllers.includes("cpu")) {
    const dir = groupDir("cpu", computeId);
    await write(path.join(dir, "cpu.cfs_period_us"), CFS_PERIOD_US);
    await write(path.join(dir, "cpu.cfs_quota_us"), liftCpu ? -1 : cpuQuotaUs(limits.cpuCores));
  }
  if (controllers.includes("memory")) await setMemory(groupDir("memory", computeId), limits.memoryBytes);
  if (controllers.includes("pids")) await write(path.join(groupDir("pids", computeId), "pids.max"), limits.pids);
}

/** Sets the CPU quota to the compute's size (after a start ran unrestricted). */
export async function restrictCpu(computeId: string, limits: ComputeLimits): Promise<void> {
  if (!(await availableControllers()).includes("cpu")) return;
  await write(path.join(groupDir("cpu", computeId), "cpu.cfs_quota_us"), cpuQuotaUs(limits.cpuCores));
}

function cpuQuotaUs(cores: number): number {
  // The kernel refuses quotas under 1 ms.
  return Math.max(1000, Math.round(cores * CFS_PERIOD_US));
}

/**
 * memory.limit_in_bytes, and the same for memory+swap where swap is accounted (memsw), so a compute cannot
 * move its excess to swap. The two must stay ordered (memsw >= memory) through a change in either direction.
 */
async function setMemory(dir: string, bytes: number): Promise<void> {
  const memsw = path.join(dir, "memory.memsw.limit_in_bytes");
  const hasMemsw = await access(memsw).then(
    () => true,
    () => false,
  );
  const current = Number((await readFile(path.join(dir, "memory.limit_in_bytes"), "utf8")).trim());
  if (hasMemsw && bytes > current) {
    await write(memsw, bytes);
    await write(path.join(dir, "memory.limit_in_bytes"), bytes);
  } else {
    await write(path.join(dir, "memory.limit_in_bytes"), bytes);
    if (hasMemsw) await write(memsw, bytes);
  }
}

/**
 * The pids in the compute's groups (read from one controller: every launch joins them all, before it
 * execs), [] when it has none; null where no controller is available, so membership says nothing.
 */
export async function groupMembers(computeId: string): Promise<number[] | null> {
  const [controller] = await availableControllers();
  if (!controller) return null;
  let text: string;
  try {
    text = await readFile(path.join(groupDir(controller, computeId), "cgroup.procs"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return text
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Whether `pid` is inside the compute's groups (all that are available). */
export async function isInGroups(pid: number, computeId: string): Promise<boolean> {
  const controllers = await availableControllers();
  if (controllers.length === 0) return true;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return false;
  }
  const want = `/${PARENT}/${computeId}`;
  return controllers.every((controller) =>
    text.split("\n").some((line) => {
      const [, names, group] = line.split(":");
      return names?.split(",").includes(controller) && group === want;
    }),
  );
}

/** Reads one usage figure of the compute's group (for tests and metrics); null where not available. */
export async function readUsage(computeId: string, controller: Controller, file: string): Promise<number | null> {
  try {
    return Number((await readFile(path.join(groupDir(controller, computeId), file), "utf8")).trim());
  } catch {
    return null;
  }
}

/**
 * Removes the compute's groups once its processes are gone (a group with members cannot be removed; the
 * sandbox's supervisor may take a moment to exit after the server). Missing groups are fine.
 */
export async function removeGroups(computeId: string): Promise<void> {
  for (const controller of await availableControllers()) {
    const dir = groupDir(controller, computeId);
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") break;
        if (code !== "EBUSY" || attempt >= 50) throw err;
        await delay(20);
      }
    }
  }
}
