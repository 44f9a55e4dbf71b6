import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { loadConfig, type Config } from "../server/config";
import { startEmbeddedPostgres } from "../server/db/embedded-postgres";
import { applyMigrations } from "../server/db/migrate";
import { isPortOpen } from "../server/util/free-port";
import { ensureSelfSignedPair } from "../server/util/self-signed-tls";
import { buildProxy, proxyCommand } from "./build-proxy";

// Starts the whole product: PostgreSQL (embedded unless DATABASE_URL is set), migrations, the Next.js app
// (built first when needed) and, when present, the proxy. Used by `npm start` and by the test setup, so the
// tests run the product the way a user does.

const ROOT = path.resolve(import.meta.dirname, "..");

export interface LaunchOptions {
  env?: Record<string, string | undefined>;
  /** Turn PostgreSQL's fsync off (tests). */
  fastPostgres?: boolean;
  log?: (line: string) => void;
  /** Pipe the children's output through log instead of inheriting stdio. */
  quiet?: boolean;
}

export interface Product {
  config: Config;
  baseUrl: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const SOURCE_DIRS = ["app", "components", "lib", "server", "prisma"];
const SOURCE_FILES = ["next.config.ts", "instrumentation.ts", "package.json", "postcss.config.mjs", "tsconfig.json"];

function newestSourceMtime(): number {
  let newest = 0;
  const visit = (p: string) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      if (p.endsWith(`${path.sep}generated`) || p.endsWith("node_modules")) return;
      for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    } else if (stat.mtimeMs > newest) newest = stat.mtimeMs;
  };
  for (const d of [...SOURCE_DIRS, ...SOURCE_FILES]) visit(path.join(ROOT, d));
  return newest;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, log: (l: string) => void): void {
  log(`$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status})`);
}

/** `prisma generate` and `next build`, only when the sources changed since the last build. */
export function buildIfNeeded(env: NodeJS.ProcessEnv, log: (l: string) => void): void {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  const generated = path.join(ROOT, "server", "db", "generated", "client.ts");
  const built = fs.statSync(buildId, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const prismaEnv = { ...env, PRISMA_SCHEMA_ENGINE_BINARY: env.PRISMA_SCHEMA_ENGINE_BINARY ?? path.join(ROOT, "scripts", "schema-engine-offline") };
  const schemaTime = fs.statSync(path.join(ROOT, "prisma", "schema.prisma")).mtimeMs;
  const generatedTime = fs.statSync(generated, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (generatedTime < schemaTime) run(path.join(ROOT, "node_modules/.bin/prisma"), ["generate"], prismaEnv, log);
  if (built >= newestSourceMtime()) return;
  log("building the app (first start or sources changed) ...");
  run(path.join(ROOT, "node_modules/.bin/next"), ["build"], { ...env, NODE_ENV: "production" }, log);
}

function waitForExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitForReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited (code ${child.exitCode}) before it was ready`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) return;
      last = await res.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the app was not ready after ${timeoutMs} ms: ${last}`);
}

/** Resolves once `port` accepts connections; rejects if the proxy `child` exits first or time runs out. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the proxy exited (code ${child.exitCode}) before it listened`);
    if (await isPortOpen(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the proxy did not listen on port ${port} within ${timeoutMs} ms`);
}

export async function launch(options: LaunchOptions = {}): Promise<Product> {
  const log = options.log ?? ((line: string) => console.log(line));
  const baseEnv = { ...process.env, ...options.env };
  const config = loadConfig(baseEnv);
  fs.mkdirSync(config.dataDir, { recursive: true });

  const pgHandle = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({ dataDir: config.dataDir, fast: options.fastPostgres, log });
  const databaseUrl = config.DATABASE_URL ?? pgHandle!.url;
  const children: ChildProcess[] = [];
  try {
    const { applied } = await applyMigrations({ databaseUrl, migrationsDir: path.join(ROOT, "prisma", "migrations") });
    if (applied.length > 0) log(`applied migrations: ${applied.join(", ")}`);

    // Local TLS for the proxy: a self-signed pair in DATA_DIR unless the operator gave one.
    const tlsPair = config.PROXY_TLS_CERT && config.PROXY_TLS_KEY ? null : ensureSelfSignedPair(config.dataDir);
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      DATABASE_URL: databaseUrl,
      DATA_DIR: config.dataDir,
      AUTH_TRUST_HOST: "true",
      NEXT_TELEMETRY_DISABLED: "1",
      ...(tlsPair ? { PROXY_TLS_CERT: tlsPair.cert, PROXY_TLS_KEY: tlsPair.key } : {}),
    };
    buildIfNeeded(env, log);

    const spawnChild = (command: string, args: string[], service: string) => {
      const child = spawn(command, args, {
        cwd: ROOT,
        env: { ...env, NODE_ENV: "production", SERVICE_NAME: service },
        stdio: options.quiet ? ["ignore", "pipe", "pipe"] : "inherit",
      });
      if (options.quiet) {
        child.stdout?.on("data", (d: Buffer) => log(d.toString().trimEnd()));
        child.stderr?.on("data", (d: Buffer) => log(d.toString().trimEnd()));
      }
      return child;
    };
    await buildProxy();
    const proxy = spawnChild(process.execPath, proxyCommand(), "proxy");
    // Next's request handler behind our own HTTP server, which tells the app the client's real address.
    const app = spawnChild(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "scripts", "app-server.ts"), "-p", String(config.PORT), "-H", "127.0.0.1"],
      "app",
    );
    children.push(proxy, app);
    const baseUrl = `http://127.0.0.1:${config.PORT}`;
    await waitForReady(baseUrl, app, 120_000);
    await waitForPort(config.PROXY_PORT, proxy, 60_000);

    return {
      config,
      baseUrl,
      databaseUrl,
      env,
      async stop() {
        app.kill("SIGTERM");
        proxy.kill("SIGTERM");
        await Promise.all([waitForExit(app, 10_000), waitForExit(proxy, config.PROXY_DRAIN_TIMEOUT_MS + 5_000)]);
        await pgHandle?.stop();
      },
    };
  } catch (error) {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => waitForExit(c, 5_000)));
    await pgHandle?.stop();
    throw error;
  }
}
