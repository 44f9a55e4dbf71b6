import { execFile } from "node:child_process";
import { mkdir, open, readFile, readlink, rm, rmdir, stat, statfs } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { logger } from "../../../logger";
import { deviceNumbers } from "./device";
import { TOOL_ENV } from "./os-user";

// A compute's disk limit. Each compute's directory is an ext4 file system of its own, in a sparse image
// file beside it (`computes/<id>.img`, root's, out of the sandbox's sight) and loop-mounted on the
// directory: a tenant who fills it gets "No space left on device" / "The table is full" from its own server
// (what a MariaDB user expects at a disk limit), and no other compute or the control plane notices. The
// image only takes the blocks written (sparse), so the limit costs nothing until used; used bytes are read
// from the file system (statfs), exactly and cheaply, for the compute's status and its bill.
//
// A full disk can keep MariaDB from starting again (InnoDB needs a little space to open), which would leave
// the tenant no way to make room. So the file system is a little larger than the limit and the difference
// is reserved for root (ext4's reserved blocks; the server is not root): at the limit the tenant's server
// gets "disk full", and a start that finds less than RESERVE_FLOOR free lends the tenant the reserve, so the
// server comes up and the tenant can TRUNCATE, DROP or ask for a larger plan. The next start with room to
// spare takes the reserve back.
//
// Mounted nodev, nosuid, noexec. A limit raised later (a plan change) grows the file system online
// (resize2fs) or at the next start; a lower one applies to new computes only (ext4 cannot shrink online). Mounts outlive the
// control plane like the servers do; after a reboot the next start mounts the image again.
//
// Needs root (mount, losetup); without it the directory is a plain one, with no limit (isolation.ts says so).

const run = promisify(execFile);
const UMOUNT_ATTEMPTS = 50;
const MIB = 1024 * 1024;
/** Below this much free space for the tenant, a start lends it the reserve. */
const RESERVE_FLOOR_BYTES = 24 * MIB;

/** The root-only reserve above the limit: 32 MiB, or 2 % of larger limits. */
export function reserveBytes(limitBytes: number): number {
  return Math.max(32 * MIB, Math.round(limitBytes * 0.02));
}

export function imagePath(computeDir: string): string {
  return `${computeDir}.img`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Whether `dir` is a mount point (its device differs from its parent's). */
export async function isMountPoint(dir: string): Promise<boolean> {
  try {
    const [own, parent] = await Promise.all([stat(dir), stat(path.dirname(dir))]);
    return own.dev !== parent.dev;
  } catch {
    return false;
  }
}

/**
 * The compute's file system, made and mounted when missing, grown when `limitBytes` rose. Returns false
 * for a compute made before volumes existed (a plain directory that already holds data): it keeps running
 * without a disk limit. A file system in use by a running server (`inUse`) is grown online where the
 * kernel allows it (CAP_SYS_RESOURCE, which a container's root may lack), else at the next start that
 * finds the server stopped (unmounted, grown, mounted again: a few tens of milliseconds).
 */
export async function ensureVolume(computeDir: string, limitBytes: number, { inUse = false } = {}): Promise<boolean> {
  const image = imagePath(computeDir);
  const reserve = reserveBytes(limitBytes);
  const size = limitBytes + reserve;
  let mounted = await isMountPoint(computeDir);
  if (!mounted && !(await exists(image))) {
    if (await exists(path.join(computeDir, "data"))) return false;
    await makeImage(image, size);
  }
  if ((await stat(image)).size < size) {
    if (mounted && !inUse) {
      await unmountVolume(computeDir);
      mounted = false;
    }
    if (mounted) await growOnline(image, size).catch((err: unknown) => logger.warn({ computeDir, err: String(err) }, "disk limit raised; it applies at the next start"));
    else await growOffline(image, size);
  }
  if (!mounted) {
    await mkdir(computeDir, { recursive: true, mode: 0o700 });
    await run("mount", ["-o", "loop,noatime,nodev,nosuid,noexec", image, computeDir], { env: TOOL_ENV });
  }
  await balanceReserve(computeDir, image, reserve);
  return true;
}

/** Keeps the root-only reserve, or lends it to the tenant when the disk is (nearly) full. */
async function balanceReserve(computeDir: string, image: string, reserve: number): Promise<void> {
  const fs = await statfs(computeDir);
  // statfs counts ext4's own hold-back (reserved_clusters, for delayed allocation: 4096 blocks here) as
  // reserved too; without taking it out, the reserve never looked right and every start ran losetup and
  // tune2fs (15-40 ms of each cold start).
  const reservedBlocks = fs.bfree - fs.bavail - (await ext4OwnReserveBlocks(computeDir));
  const free = fs.bfree * fs.bsize;
  const want = free < RESERVE_FLOOR_BYTES + reserve ? 0 : Math.round(reserve / fs.bsize);
  if (want === reservedBlocks) return; // the usual case: no process to spawn on the wake path
  const device = await loopDevice(image);
  if (device) await run("tune2fs", ["-r", String(want), device], { env: TOOL_ENV });
}

/** ext4's reserved_clusters of the file system holding `dir` (blocks: makeImage makes no bigalloc); 0 when unknown. */
async function ext4OwnReserveBlocks(dir: string): Promise<number> {
  try {
    const { major, minor } = deviceNumbers((await stat(dir)).dev);
    const device = path.basename(await readlink(`/sys/dev/block/${major}:${minor}`));
    const clusters = Number((await readFile(`/sys/fs/ext4/${device}/reserved_clusters`, "utf8")).trim());
    return Number.isSafeInteger(clusters) ? clusters : 0;
  } catch {
    return 0;
  }
}

async function makeImage(image: string, bytes: number): Promise<void> {
  // Built aside and renamed: an image at its final name is a complete file system.
  const temp = `${image}.new-${process.pid}`;
  try {
    await truncateTo(temp, bytes, "w");
    // The reserve is set by balanceReserve. Inode tables and journal initialised lazily (a new compute
    // does not wait for them); no discard (the image is sparse already).
    await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", temp], {
      env: TOOL_ENV,
    });
    await run("mv", ["-f", "--", temp, image], { env: TOOL_ENV });
  } finally {
    await rm(temp, { force: true });
  }
}

async function truncateTo(file: string, bytes: number, flags: "w" | "r+"): Promise<void> {
  const handle = await open(file, flags, 0o600);
  try {
    await handle.truncate(bytes);
  } finally {
    await handle.close();
  }
}

async function growOffline(image: string, bytes: number): Promise<void> {
  await truncateTo(image, bytes, "r+");
  // resize2fs insists on a freshly checked file system; -p repairs only what is safe without asking.
  await run("e2fsck", ["-f", "-p", image], { env: TOOL_ENV });
  await run("resize2fs", [image], { env: TOOL_ENV });
}

async function growOnline(image: string, bytes: number): Promise<void> {
  const device = await loopDevice(image);
  if (!device) throw new Error(`no loop device for ${image}`);
  await truncateTo(image, bytes, "r+");
  await run("losetup", ["--set-capacity", device], { env: TOOL_ENV });
  await run("resize2fs", [device], { env: TOOL_ENV });
}

async function loopDevice(image: string): Promise<string | null> {
  const { stdout } = await run("losetup", ["-j", image], { env: TOOL_ENV });
  const match = /^(\/dev\/loop\d+):/m.exec(stdout);
  return match?.[1] ?? null;
}

/** Unmounts (and so detaches) the compute's file system, waiting for the last user to let go. */
export async function unmountVolume(computeDir: string): Promise<void> {
  for (let attempt = 1; await isMountPoint(computeDir); attempt++) {
    try {
      await run("umount", [computeDir], { env: TOOL_ENV });
    } catch (err) {
      // Busy: the sandbox's supervisor may take a moment to exit after the server.
      if (attempt >= UMOUNT_ATTEMPTS) throw err;
      await delay(20);
    }
  }
}

/** Removes the compute's file system for good (destroy). */
export async function removeVolume(computeDir: string): Promise<void> {
  await unmountVolume(computeDir);
  await rm(imagePath(computeDir), { force: true });
  await rmdir(computeDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

/** Bytes in use on the compute's storage: its file system's used blocks, or the directory's size without one. */
export async function usedBytes(computeDir: string): Promise<number | null> {
  try {
    if (await isMountPoint(computeDir)) {
      const fs = await statfs(computeDir);
      return (fs.blocks - fs.bfree) * fs.bsize;
    }
    const { stdout } = await run("du", ["-sb", "--", computeDir], { env: TOOL_ENV });
    return Number(stdout.split("\t")[0]);
  } catch {
    return null;
  }
}
