import { execFile } from "node:child_process";
import { existsSync, type Stats } from "node:fs";
import { chmod, lchown, mkdir, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";

// OS accounts of the local driver. Each compute server runs as an account of its own
// (compute-account.ts); the one shared unprivileged account here, `mariadb-compute`, only builds the data
// directory template (mariadb-install-db runs a bootstrap server, with no tenant input, that should not run
// as root), after which the template is root's. A control plane that is not root runs everything as
// itself: it has nothing more to lose. scripts/setup.mjs creates the same account.

export const COMPUTE_OS_USER = "mariadb-compute";

export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
}

const run = promisify(execFile);

// useradd lives in sbin, which a non-login root shell may not have on its PATH. LANG=C: messages we quote.
export const TOOL_ENV: NodeJS.ProcessEnv = {
  PATH: `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin`,
  LANG: "C",
  NODE_ENV: process.env.NODE_ENV,
};

/** The account from the user database (files, LDAP, ... through getent), or null when there is none. */
export async function lookupOsAccount(name: string): Promise<OsAccount | null> {
  let stdout: string;
  try {
    ({ stdout } = await run("getent", ["passwd", name], { env: TOOL_ENV }));
  } catch (err) {
    // getent exits with 2 when the key is not found.
    if ((err as { code?: unknown }).code === 2) return null;
    throw err;
  }
  const fields = stdout.trim().split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (fields[0] !== name || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) {
    throw new Error(`cannot read the OS user ${name} from ${JSON.stringify(stdout)}`);
  }
  return { name, uid, gid };
}

function noLoginShell(): string {
  return ["/usr/sbin/nologin", "/sbin/nologin"].find((p) => existsSync(p)) ?? "/bin/false";
}

const USERADD_EXISTS = 9;
const CREATE_ATTEMPTS = 5;

/**
 * The account, created when missing: a system account with no home and no login shell. Several processes
 * may do this at once (two control planes, setup.mjs): "already exists" is success, and a useradd that
 * could not lock /etc/passwd because another one held it is tried again.
 */
export async function ensureOsAccount(name: string): Promise<OsAccount> {
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
    const found = await lookupOsAccount(name);
    if (found) return found;
    try {
      await run(
        "useradd",
        ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", noLoginShell(), name],
        { env: TOOL_ENV },
      );
    } catch (err) {
      if ((err as { code?: unknown }).code !== USERADD_EXISTS) {
        lastError = err;
        await delay(50 * attempt);
      }
    }
  }
  const found = await lookupOsAccount(name);
  if (found) return found;
  const reason = lastError instanceof Error ? lastError.message.trim() : String(lastError);
  throw new Error(
    `cannot create the OS user ${name} that runs the compute servers: ${reason}\n` +
      `Create it yourself: useradd --system --no-create-home --shell /usr/sbin/nologin ${name}`,
  );
}

let account: Promise<OsAccount | null> | null = null;

/**
 * The account templates are built as: the dedicated one (created once per process when missing) if this
 * process is root, null if it is not (the build then runs as this process does, without --user).
 */
export function computeAccount(): Promise<OsAccount | null> {
  if (process.getuid?.() !== 0) return Promise.resolve(null);
  if (!account) {
    account = ensureOsAccount(COMPUTE_OS_USER);
    // A failure (useradd missing, read-only /etc) is reported, and tried again by the next start.
    account.catch(() => {
      account = null;
    });
  }
  return account;
}

function searchable(info: Stats, who: OsAccount): boolean {
  if (who.uid === 0) return true;
  if (info.uid === who.uid) return (info.mode & 0o100) !== 0;
  if (info.gid === who.gid) return (info.mode & 0o010) !== 0;
  return (info.mode & 0o001) !== 0;
}

/**
 * Throws, naming the directory and the fix, unless `who` can reach `dir`: mariadbd opens its files after it
 * dropped to that account, and a parent it cannot search (a 0700 mkdtemp directory, a home directory) would
 * otherwise show up as an obscure "Can't create/write to file" or "Can't change dir" in its error log.
 */
export async function assertReachable(dir: string, who: OsAccount, what: string): Promise<void> {
  // The real path: a symlinked parent is searched where it points.
  let current = await realpath(dir);
  for (;;) {
    const info = await stat(current);
    if (!searchable(info, who)) {
      const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
      throw new Error(
        `${what}: the OS user ${who.name} that runs the compute servers cannot enter ${current} ` +
          `(mode ${mode}, owner uid ${info.uid}). Allow it (chmod o+x ${current}) or use a directory ` +
          "whose parents all are searchable by other users.",
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** mkdir -p whose new directories get `mode` whatever the umask (existing ones are left as they are). */
export async function makeDirs(dir: string, mode: number): Promise<void> {
  const target = path.resolve(dir);
  const first = await mkdir(target, { recursive: true, mode });
  if (first === undefined) return;
  const stop = path.dirname(path.resolve(first));
  for (let current = target; current !== stop && current !== path.dirname(current); current = path.dirname(current)) {
    await chmod(current, mode);
  }
}

/**
 * One of the driver's own directories under DATA_DIR (computes/, templates/), made when missing, that `who`
 * (if any) must pass through. Being ours, it is opened for search (not listing) by others when it is not
 * yet (earlier versions of the driver made computes/ 0700). Its parents are not ours: they are only checked.
 */
export async function passableDir(dir: string, who: OsAccount | null, what: string): Promise<void> {
  await makeDirs(dir, 0o755);
  if (!who) return;
  const info = await stat(dir);
  if (!searchable(info, who) && info.uid === process.getuid?.()) await chmod(dir, (info.mode & 0o7777) | 0o011);
  await assertReachable(dir, who, what);
}

/**
 * chown -R that never follows a symbolic link (a link planted in the tree is re-owned, not its target).
 * `root` itself comes last: once it has the new owner, everything in it has too.
 */
export async function chownTree(root: string, who: OsAccount): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  await Promise.all(entries.map((entry) => lchown(path.join(entry.parentPath, entry.name), who.uid, who.gid)));
  await lchown(root, who.uid, who.gid);
}
