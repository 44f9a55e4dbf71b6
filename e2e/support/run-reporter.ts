import { spawn } from "node:child_process";
import path from "node:path";
import { expect } from "@playwright/test";

// Runs e2e/support/report-sessions.ts against the product's PostgreSQL (E2E_DATA_DIR) for a project: a real
// ActivityReporter writing the rows a proxy process writes, until the function it resolves with stops it.

const root = path.resolve(import.meta.dirname, "../..");

/** Starts reporting the project's sessions (and with `pool`, a pool snapshot); resolves once they are written. */
export async function reportSessions(slug: string, { pool = false }: { pool?: boolean } = {}): Promise<() => Promise<void>> {
  const args = [path.join(root, "e2e/support/report-sessions.ts"), slug, ...(pool ? ["--pool"] : [])];
  const child = spawn(path.join(root, "node_modules", ".bin", "tsx"), args, {
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, DATABASE_URL: "", LOG_LEVEL: "warn" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("reported ")) resolve();
    });
    void exited.then((code) => reject(new Error(`report-sessions exited with ${code} before reporting`)));
  });
  return async () => {
    child.stdin.end();
    expect(await exited).toBe(0);
  };
}
