import { existsSync } from "node:fs";
import path from "node:path";
import { availableControllers, type Controller } from "./cgroups";
import type { SandboxTools } from "./sandbox";

// What this machine lets the local driver enforce, found once per process and said at start-up: a product
// that cannot isolate its tenants must say so, not pretend. Root is needed for every layer (accounts,
// cgroups, the mount namespace); without root the servers run as the control plane's own user with none of
// them, fit for a developer's laptop and nothing shared.

export interface Isolation {
  /** Root: each compute runs as its own OS account. */
  accounts: boolean;
  /** Tools for the launch; null when not root. */
  tools: SandboxTools | null;
  controllers: Controller[];
  /** What is not enforced, one sentence each, for the start-up log and /api/health. */
  missing: string[];
}

function which(name: string): string | null {
  const dirs = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`.split(":");
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

let found: Promise<Isolation> | null = null;

export function isolation(): Promise<Isolation> {
  found ??= detect();
  return found;
}

async function detect(): Promise<Isolation> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) {
    missing.push(
      "not running as root: compute servers run as this user, with no per-compute account, no sandbox and no CPU or memory limits; tenants are not isolated from each other",
    );
    return { accounts: false, tools: null, controllers: [], missing };
  }
  const sh = which("sh") ?? "/bin/sh";
  const setpriv = which("setpriv");
  const bwrap = which("bwrap");
  if (!setpriv) throw new Error("setpriv (util-linux) is missing: it is needed to run compute servers as their own accounts");
  if (!bwrap) {
    missing.push(
      "bubblewrap (bwrap) is missing: compute servers run as their own accounts but see the host's file system (apt-get install bubblewrap)",
    );
  }
  const controllers = await availableControllers();
  for (const controller of ["cpu", "memory", "pids"] as const) {
    if (!controllers.includes(controller)) {
      missing.push(`the cgroup v1 controller "${controller}" is not available: compute servers are not limited by it`);
    }
  }
  return { accounts: true, tools: { sh, bwrap, setpriv }, controllers, missing };
}

/** One paragraph for the start-up banner: what holds, or what does not. */
export async function isolationSummary(): Promise<string> {
  const found = await isolation();
  if (found.missing.length === 0) {
    return "each compute runs as its own OS account, in a bubblewrap sandbox that shows it only its own directory, held to its size by cgroups (cpu, memory, pids) and a disk of its own";
  }
  return `NOT fully enforced:\n${found.missing.map((line) => `                    - ${line}`).join("\n")}`;
}
