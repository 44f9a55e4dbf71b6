import { spawnSync } from "node:child_process";
import path from "node:path";

// As root, the embedded PostgreSQL runs as the `postgres` OS account (initdb.ts), which must be able to
// enter every directory on the way to its data directory. `mktemp -d` and home directories are often 0700:
// there initdb failed with "could not open file .../pw for reading: Permission denied", which names a file
// and not the cause. This finds the directory in the way before anything is written, so the message can
// say which one and what to do.

export interface OsAccount {
  uid: number;
  gid: number;
}

/**
 * Whether `account` can enter `dir`, asked of the kernel as that account (a `cd` in a shell spawned with its
 * uid and gid, as PostgreSQL itself is spawned), so modes, groups and ACLs all count as they will.
 */
export function canEnter(dir: string, account: OsAccount): boolean {
  const result = spawnSync("/bin/sh", ["-c", 'cd -- "$1"', "sh", dir], { uid: account.uid, gid: account.gid, stdio: "ignore" });
  return result.status === 0;
}

/** The first directory on the way to `dir` (itself included) that `account` cannot enter; null when none. */
export function firstBarrier(dir: string, account: OsAccount): string | null {
  if (canEnter(dir, account)) return null;
  let at = path.parse(path.resolve(dir)).root;
  for (const part of path.resolve(dir).split(path.sep).filter(Boolean)) {
    at = path.join(at, part);
    if (!canEnter(at, account)) return at;
  }
  return path.resolve(dir);
}
