import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { findFreePort } from "../server/util/free-port";

// One more app replica (scripts/app-server.ts, as `npm start` runs the app) on the test product's
// PostgreSQL and data directory (the test workers inherit them in their environment), on a free port, with
// the scheduler off (the product's own replica runs it). Resolves once it answers.

const ROOT = path.join(import.meta.dirname, "..");

export interface AppReplica {
  port: number;
  baseUrl: string;
  child: ChildProcess;
  stop(): void;
}

export async function startAppReplica(env: NodeJS.ProcessEnv = process.env): Promise<AppReplica> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "app-server.ts"), "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), NODE_ENV: "production", SCHEDULER_DISABLED: "1", AUTH_TRUST_HOST: "true", NEXT_TELEMETRY_DISABLED: "1", SERVICE_NAME: "app" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app replica exited (${child.exitCode})`);
    const ok = await fetch(`${baseUrl}/api/health/live`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("the app replica did not start within 60 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, baseUrl, child, stop: () => child.kill("SIGTERM") };
}
