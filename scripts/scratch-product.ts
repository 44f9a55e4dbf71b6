import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findFreePort } from "../server/util/free-port";
import { launch, waitForPort, type Product } from "./launcher";
import { buildProxy, proxyCommand } from "./build-proxy";

// A throwaway copy of the product for the tests and benchmarks: its own data directory, free ports, short
// timeouts. Shared so that the tests and the benches run the product the same way.

/** A fresh data directory under the system's temp dir, reachable by the postgres and compute OS users. */
export function scratchDataDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.chmodSync(dir, 0o755); // mkdtemp makes it 0700; the embedded PostgreSQL and mariadbd run as other users
  return dir;
}

/** The environment for `launch()`: free ports, the embedded PostgreSQL, quick scheduler and idle bounds. */
export async function scratchEnv(dataDir: string, overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    PORT: String(await findFreePort()),
    PROXY_PORT: String(await findFreePort()),
    PROXY_METRICS_PORT: String(await findFreePort()),
    MIN_SUSPEND_TIMEOUT_SECONDS: "1",
    SCHEDULER_INTERVAL_MS: "1000",
    TRANSITION_LEASE_SECONDS: "30",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    ...overrides,
  };
}

/**
 * Kill every mariadbd serving a compute under dataDir (computes are detached from the product on purpose)
 * and unmount their file systems (volume.ts), so the directory can be removed.
 */
export function killComputes(dataDir: string): void {
  killServers(dataDir);
  unmountUnder(dataDir);
}

function unmountUnder(dataDir: string): void {
  let mountinfo = "";
  try {
    mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return;
  }
  const prefix = `${path.resolve(dataDir)}/`;
  // Field 5 is the mount point, with spaces and the like escaped as octal (\040).
  const points = mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((point): point is string => Boolean(point?.startsWith(prefix)));
  for (const point of points.sort().reverse()) {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (spawnSync("umount", [point], { stdio: "ignore" }).status === 0) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // the last process is still exiting
    }
  }
}

function killServers(dataDir: string): void {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.includes("mariadbd") || !cmdline.includes(`--datadir=${dataDir}/`)) continue;
      process.kill(Number(entry), "SIGCONT");
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}

/** launch() with the scratch environment, quietly; the product's output is printed only if it fails to start. */
export async function launchScratch(env: Record<string, string>): Promise<Product> {
  const lines: string[] = [];
  return launch({ env, fastPostgres: true, quiet: true, log: (l) => lines.push(l) }).catch((error: unknown) => {
    console.error(lines.join("\n"));
    throw error;
  });
}

/**
 * One more proxy process (`npm run proxy`) on free ports, with `env` plus `settings`; resolves once it
 * listens. The caller stops it (SIGTERM drains, like the product's own).
 */
export async function spawnProxy(env: NodeJS.ProcessEnv, settings: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const port = await findFreePort();
  const root = path.join(import.meta.dirname, "..");
  await buildProxy();
  const child = spawn(process.execPath, proxyCommand(), {
    cwd: root,
    env: { ...env, ...settings, PROXY_PORT: String(port), PROXY_METRICS_PORT: String(await findFreePort()), SERVICE_NAME: "proxy" },
    stdio: ["ignore", "ignore", "ignore"],
  });
  try {
    await waitForPort(port, child, 60_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return { child, port };
}
