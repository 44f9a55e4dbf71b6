import { execFile } from "node:child_process";
import { readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { INNODB_LOG_FILE_SIZE } from "./mariadb-config";
import { chownTree, passableDir, type OsAccount } from "./os-user";
import { templatesDir } from "./paths";
import { readProcStat } from "./process";

// A compute's data directory is a copy of a template made once per DATA_DIR and server version:
// mariadb-install-db costs about a second, copying ~26 MB costs a few tens of milliseconds.
//
// When the servers run as an unprivileged account, the template is built by that account (mariadbd
// --bootstrap drops to it) and then handed to the control plane's user (mode 0700): every future compute
// is copied from it, so no compute server (they all share the account) may change it. Each copy is then
// given to the account: re-owning its ~200 files costs 2-5 ms, which is all that a template owned by the
// account (whose `cp -a` copies keep that owner) would save; measured here.

const run = promisify(execFile);

export interface TemplateOptions {
  dataDir: string;
  mariadbdPath: string;
  installDbPath: string;
  /** The OS user the control plane runs as: the server's root account authenticates it over the socket. */
  adminUser: string;
  /** The account the servers run as when started by root (mariadbd --user), else null. */
  account: OsAccount | null;
  env: NodeJS.ProcessEnv;
}

const versions = new Map<string, Promise<string>>();

/** "10.11.19" from `mariadbd --version`, asked once per binary. */
export function mariadbVersion(mariadbdPath: string, env: NodeJS.ProcessEnv): Promise<string> {
  let version = versions.get(mariadbdPath);
  if (!version) {
    version = run(mariadbdPath, ["--version"], { env }).then(({ stdout }) => {
      const match = /Ver\s+(\d+\.\d+\.\d+)/.exec(stdout);
      if (!match?.[1]) throw new Error(`cannot read the version of ${mariadbdPath} from ${JSON.stringify(stdout)}`);
      return match[1];
    });
    versions.set(mariadbdPath, version);
    version.catch(() => versions.delete(mariadbdPath));
  }
  return version;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

const BUILD_PREFIX = ".build-";

// Leftovers of builders that died half-way (their pid is in the name) would otherwise pile up.
async function removeAbandonedBuilds(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(BUILD_PREFIX)) continue;
    const pid = Number(entry.slice(BUILD_PREFIX.length).split("-")[0]);
    if (pid === process.pid || (await readProcStat(pid)) !== null) continue;
    await rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

async function buildTemplate(target: string, options: TemplateOptions): Promise<void> {
  const dir = path.dirname(target);
  // mariadb-install-db's server writes the build directory as the account.
  await passableDir(dir, options.account, `DATA_DIR ${path.resolve(options.dataDir)}`);
  await removeAbandonedBuilds(dir);
  // Built aside and renamed into place: a template directory that exists is complete, and of two builders
  // (two control-plane processes) the second rename fails harmlessly.
  const build = path.join(dir, `${BUILD_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
  const args = [
    "--no-defaults",
    `--datadir=${build}`,
    ...(options.account ? [`--user=${options.account.name}`] : []),
    "--skip-test-db",
    // root@localhost authenticates by the peer's OS user over the socket; no account has an empty password.
    "--auth-root-authentication-method=socket",
    `--auth-root-socket-user=${options.adminUser}`,
    `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
  ];
  try {
    await run(options.installDbPath, args, { env: options.env, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    await rm(build, { recursive: true, force: true });
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    const output = `${stdout ?? ""}${stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(`mariadb-install-db failed: ${(err as Error).message}\n${output}`);
  }
  try {
    // Out of the account's reach (see the top of this file): its files were the account's, the directory
    // itself and a file the script wrote were root's already.
    if (options.account) await chownTree(build, controlPlaneUser());
    await rename(build, target);
  } catch (err) {
    await rm(build, { recursive: true, force: true });
    // Someone else's template won the race; it is as good as ours.
    if (!(await exists(target))) throw err;
  }
}

const templates = new Map<string, Promise<string>>();

/** The path of a complete template for this data dir and server version, built when missing. */
export async function ensureTemplate(options: TemplateOptions): Promise<string> {
  const version = await mariadbVersion(options.mariadbdPath, options.env);
  const target = path.join(templatesDir(options.dataDir), `mariadb-${version}`);
  let ready = templates.get(target);
  if (!ready) {
    ready = (async () => {
      if (!(await exists(target))) await buildTemplate(target, options);
      return target;
    })();
    templates.set(target, ready);
    // A failed build is retried by the next caller; someone may rm -rf the templates directory.
    ready.catch(() => templates.delete(target));
  }
  const result = await ready;
  if (!(await exists(result))) {
    templates.delete(target);
    return ensureTemplate(options);
  }
  return result;
}

function controlPlaneUser(): OsAccount {
  return { name: "control plane", uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/**
 * Copies the template to `dest` through a temporary sibling, so `dest` either does not exist or is a
 * complete data directory even if the control plane dies during the copy. The copy belongs to `account`
 * when the servers run as one.
 */
export async function copyTemplate(
  template: string,
  dest: string,
  account: OsAccount | null,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const parent = path.dirname(dest);
  const leftover = `${path.basename(dest)}.copy-`;
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(leftover)) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
  const temp = `${dest}.copy-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    // Reflink where the file system can (btrfs, xfs): a copy then costs nothing. GNU cp copies ~26 MB in
    // about half the time of Node's fs.cp here (25 ms against 45-50 ms on ext4).
    await run("cp", ["-a", "--reflink=auto", "--", template, temp], { env });
    if (account) await chownTree(temp, account);
    await rename(temp, dest);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
