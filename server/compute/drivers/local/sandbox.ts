import { lstatSync, readlinkSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { OsAccount } from "./os-user";

// How a compute's mariadbd is launched so that, whatever a tenant makes it do, it acts on its own files
// only. Three layers, each enough to stop the attack of issue 8 on its own (a tenant with SUPER pointing
// general_log_file at another compute's directory):
//
//   1. cgroups: a tiny shell writes its own pid into the compute's cgroups and execs the rest, so the server
//      is limited from its first instruction (cgroups.ts);
//   2. bubblewrap (Debian's `bwrap`, run as root): a mount namespace that shows the server /usr read-only,
//      a minimal /dev and /etc, a private /tmp in memory, and of DATA_DIR only the compute's own directory,
//      at the same path (so paths in its command line, socket and pid file mean the same inside and out).
//      Other computes, DATA_DIR/postgres, DATA_DIR/secrets, the TLS keys and the rest of the host are not
//      there to be named. No new user namespace: the server stays a plain process of the host's, so the
//      control plane's unix_socket login (peer uid 0) keeps working and the tenant gets no namespace
//      capabilities to play with;
//   3. setpriv (util-linux): inside the sandbox, the compute's own OS account (compute-account.ts), no
//      supplementary groups, no capabilities (bounding set emptied), no_new_privs.
//
// The network is shared (the server listens on the host's loopback for the proxy); what a tenant could
// reach from there (another compute, PostgreSQL) asks for credentials it does not have.

const JOIN_AND_EXEC = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 111; shift; done; shift; exec "$@"';

export interface SandboxTools {
  sh: string;
  /** null: no mount namespace (reported at start-up); the account and cgroups still apply. */
  bwrap: string | null;
  setpriv: string;
}

export interface SandboxCommandInput {
  tools: SandboxTools;
  /** cgroup.procs files to join first (cgroups.ts joinFiles). */
  joinFiles: string[];
  account: OsAccount;
  /** The compute's directory: the only part of DATA_DIR the server sees, read-write. */
  computeDir: string;
  /** Directory holding the passwd and group files the sandbox shows as /etc/passwd and /etc/group. */
  etcDir: string;
  tmpBytes: number;
  command: string;
  args: readonly string[];
}

/** /lib, /bin, ... as the host has them: symbolic links into /usr (merged /usr) or directories of their own. */
function rootDirs(): string[] {
  const out: string[] = [];
  for (const name of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    const host = `/${name}`;
    try {
      const info = lstatSync(host);
      if (info.isSymbolicLink()) out.push("--symlink", readlinkSync(host), host);
      else if (info.isDirectory()) out.push("--ro-bind", host, host);
    } catch {
      // not on this host
    }
  }
  return out;
}

/** Every ancestor of `dir` below the root, outermost first. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    out.unshift(current);
  }
  return out;
}

export function bwrapArgs(input: Pick<SandboxCommandInput, "computeDir" | "etcDir" | "tmpBytes">): string[] {
  return [
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    // No controlling terminal to inject keystrokes into (TIOCSTI).
    "--new-session",
    "--ro-bind", "/usr", "/usr",
    ...rootDirs(),
    "--dev", "/dev",
    // The directories bwrap makes on the way to a mount point would be 0700 root's: opened for search only.
    "--perms", "0755", "--dir", "/etc",
    "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
    "--ro-bind", path.join(input.etcDir, "passwd"), "/etc/passwd",
    "--ro-bind", path.join(input.etcDir, "group"), "/etc/group",
    "--size", String(input.tmpBytes), "--perms", "1777", "--tmpfs", "/tmp",
    ...ancestors(input.computeDir).flatMap((dir) => ["--perms", "0711", "--dir", dir]),
    "--bind", input.computeDir, input.computeDir,
    "--chdir", input.computeDir,
  ];
}

/** The command (and arguments) that runs `command` in the compute's cgroups, sandbox and account. */
export function sandboxCommand(input: SandboxCommandInput): { command: string; args: string[] } {
  const { tools, account } = input;
  const setpriv = [
    tools.setpriv,
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    "--clear-groups",
    "--no-new-privs",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--",
    input.command,
    ...input.args,
  ];
  const confined = tools.bwrap ? [tools.bwrap, ...bwrapArgs(input), "--", ...setpriv] : setpriv;
  return { command: tools.sh, args: ["-c", JOIN_AND_EXEC, "sh", ...input.joinFiles, "--", ...confined] };
}

/**
 * The passwd and group files every sandbox shows: the control plane's account only (the server's
 * unix_socket plugin names the peer of the admin login by its uid). The host's own files would tell a
 * tenant every other compute's account and directory. Rewritten only when they differ.
 */
export async function ensureSandboxEtc(etcDir: string, admin: { name: string; uid: number; gid: number }): Promise<void> {
  await mkdir(etcDir, { recursive: true, mode: 0o755 });
  const files = {
    passwd: `${admin.name}:x:${admin.uid}:${admin.gid}:control plane:/nonexistent:/usr/sbin/nologin\n`,
    group: `${admin.name}:x:${admin.gid}:\n`,
  };
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(etcDir, name);
    if ((await readFile(file, "utf8").catch(() => null)) === content) continue;
    const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(temp, content, { mode: 0o644 });
    await rename(temp, file);
  }
}
