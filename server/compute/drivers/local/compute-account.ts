import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { lookupOsAccount, TOOL_ENV, type OsAccount } from "./os-user";

// Each compute runs as an OS account of its own. A tenant who gets every privilege inside its server
// (SUPER included: the `mysql` schema is writable by its roles, see privileges.ts) acts on the host as that
// account only; another compute's directory (mode 0700, another owner) is closed to it even before the
// sandbox (sandbox.ts) hides it. Sharing one account between computes would make every compute's files
// every tenant's.
//
// The accounts are system accounts with no home and no login, named `mdb-` + a hash of the compute's
// directory (the same compute id may exist under two DATA_DIRs, e.g. a copy, and must not share an
// account), with the directory in the comment field so an operator can tell whose it is and a sweep can
// remove the accounts of directories that are gone. useradd allocates the uid under /etc/passwd's lock,
// which makes it unique on the machine across control planes and DATA_DIRs. Creating one costs ~35 ms,
// once per compute; removing one ~20 ms.

const run = promisify(execFile);
const PREFIX = "mdb-";
const COMMENT_PREFIX = "mariadb-serverless compute ";
// Far from the distribution's own system accounts (100-999) and from people's (1000+).
const UID_RANGE = ["-K", "SYS_UID_MIN=200000", "-K", "SYS_UID_MAX=399999", "-K", "SYS_GID_MIN=200000", "-K", "SYS_GID_MAX=399999"];
const USERADD_EXISTS = 9;
const USERDEL_MISSING = 6;

export function computeAccountName(computeDir: string): string {
  return PREFIX + createHash("sha256").update(computeDir).digest("hex").slice(0, 16);
}

function noLoginShell(): string {
  return ["/usr/sbin/nologin", "/sbin/nologin"].find((p) => existsSync(p)) ?? "/bin/false";
}

// Accounts found or made by this process: a start (the wake path) does not ask the user database again.
// A removal through removeComputeAccount forgets it; one removed behind our back (userdel by hand) shows up
// as a start that fails, and the next process looks again.
const known = new Map<string, Promise<OsAccount>>();

/** The compute's own account, created when missing. Concurrent calls for one compute share one useradd. */
export function ensureComputeAccount(computeDir: string): Promise<OsAccount> {
  const name = computeAccountName(computeDir);
  let account = known.get(name);
  if (!account) {
    account = create(name, computeDir);
    known.set(name, account);
    account.catch(() => known.delete(name));
  }
  return account;
}

async function create(name: string, computeDir: string): Promise<OsAccount> {
  const found = await lookupOsAccount(name);
  if (found) return found;
  try {
    await run(
      "useradd",
      [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        noLoginShell(),
        "--comment",
        COMMENT_PREFIX + computeDir,
        ...UID_RANGE,
        name,
      ],
      { env: TOOL_ENV },
    );
  } catch (err) {
    // Another control plane created it at the same moment: as good as ours.
    if ((err as { code?: unknown }).code !== USERADD_EXISTS) {
      const reason = err instanceof Error ? err.message.trim() : String(err);
      throw new Error(`cannot create the OS account ${name} for the compute in ${computeDir}: ${reason}`);
    }
  }
  const account = await lookupOsAccount(name);
  if (!account) throw new Error(`the OS account ${name} for the compute in ${computeDir} vanished after useradd`);
  return account;
}

/** Removes the compute's account (and its group); one that is already gone is fine. */
export async function removeComputeAccount(computeDir: string): Promise<void> {
  known.delete(computeAccountName(computeDir));
  try {
    await run("userdel", [computeAccountName(computeDir)], { env: TOOL_ENV });
  } catch (err) {
    if ((err as { code?: unknown }).code !== USERDEL_MISSING) throw err;
  }
}

/**
 * Removes the accounts of computes whose directory no longer exists (a DATA_DIR deleted by hand, a test
 * run's scratch directory): they would otherwise pile up in /etc/passwd. Run once per process.
 */
export async function sweepOrphanAccounts(): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await run("getent", ["passwd"], { env: TOOL_ENV, maxBuffer: 64 * 1024 * 1024 }));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const line of stdout.split("\n")) {
    const [name, , , , comment] = line.split(":");
    if (!name?.startsWith(PREFIX) || !comment?.startsWith(COMMENT_PREFIX)) continue;
    const dir = comment.slice(COMMENT_PREFIX.length);
    if (existsSync(dir) || computeAccountName(dir) !== name) continue;
    await run("userdel", [name], { env: TOOL_ENV }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}
