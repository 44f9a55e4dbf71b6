import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// Generated secrets kept under DATA_DIR/secrets (the embedded PostgreSQL's passwords): made once, read at every
// start. The directory is 0700 and each file 0600, owned by the account that runs the product, so the compute
// accounts (mariadb-compute and the per-compute ones) and the `postgres` OS account cannot read them although
// DATA_DIR itself has to stay reachable by them. Modes are put right at every read, in case a copy or an
// archive restored them wider.

export function secretsDir(dataDir: string): string {
  return path.join(dataDir, "secrets");
}

function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to uid ${stat.uid}, not to the account running the product (uid ${process.getuid()})`);
  }
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

function readSecret(file: string): string | undefined {
  let value: string;
  try {
    value = fs.readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  if (!value) throw new Error(`${file} is empty: remove it only if you also know how to reset what it protects`);
  return value;
}

/**
 * The secret `name` of this DATA_DIR, generated (32 random bytes, base64url: no character that needs quoting
 * in a URL or SQL) the first time. `created` says whether this call made it. Safe against a concurrent
 * starter (`npm start` and `npm run proxy` on one DATA_DIR): the file is created exclusively, the loser reads it.
 */
export function keptSecret(dataDir: string, name: string): { value: string; created: boolean } {
  const dir = secretsDir(dataDir);
  ensurePrivateDir(dir);
  const file = path.join(dir, name);
  const existing = readSecret(file);
  if (existing) return { value: existing, created: false };
  const value = crypto.randomBytes(32).toString("base64url");
  try {
    fs.writeFileSync(file, `${value}\n`, { flag: "wx", mode: 0o600 });
    return { value, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { value: readSecret(file)!, created: false };
  }
}

/** The secret `name` if it was generated already (never creates it). */
export function readKeptSecret(dataDir: string, name: string): string | undefined {
  return readSecret(path.join(secretsDir(dataDir), name));
}
