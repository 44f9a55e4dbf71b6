import { execFile } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { cp, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { INNODB_LOG_FILE_SIZE } from "./mariadb-config";
import { templatesDir } from "./paths";
import { readProcStat } from "./process";

// A compute's data directory is a copy of a template made once per DATA_DIR and server version:
// mariadb-install-db costs about a second, copying ~26 MB costs a few tens of milliseconds.

const run = promisify(execFile);

export interface TemplateOptions {
  dataDir: string;
  mariadbdPath: string;
  installDbPath: string;
  /** The OS user the control plane runs as: the server's root account authenticates it over the socket. */
  osUser: string;
  runAsRoot: boolean;
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
  await mkdir(dir, { recursive: true });
  await removeAbandonedBuilds(dir);
  // Built aside and renamed into place: a template directory that exists is complete, and of two builders
  // (two control-plane processes) the second rename fails harmlessly.
  const build = path.join(dir, `${BUILD_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`);
  const args = [
    "--no-defaults",
    `--datadir=${build}`,
    ...(options.runAsRoot ? ["--user=root"] : []),
    "--skip-test-db",
    // root@localhost authenticates by the peer's OS user over the socket; no account has an empty password.
    "--auth-root-authentication-method=socket",
    `--auth-root-socket-user=${options.osUser}`,
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

/**
 * Copies the template to `dest` through a temporary sibling, so `dest` either does not exist or is a
 * complete data directory even if the control plane dies during the copy.
 */
export async function copyTemplate(template: string, dest: string): Promise<void> {
  const parent = path.dirname(dest);
  const leftover = `${path.basename(dest)}.copy-`;
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(leftover)) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
  const temp = `${dest}.copy-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    // Reflink where the file system can (btrfs, xfs): a copy then costs nothing.
    await cp(template, temp, { recursive: true, mode: fsConstants.COPYFILE_FICLONE });
    await rename(temp, dest);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
