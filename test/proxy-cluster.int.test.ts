import fs from "node:fs";
import net from "node:net";
import mysql from "mysql2/promise";
import { describe, expect, inject, it } from "vitest";
import { spawnProxy } from "../scripts/scratch-product";
import { PROXY_SLOT_SIZE } from "../server/proxy-activity/constants";
import { newTenant } from "./api";
import { createProjectWithCompute, waitFor } from "./compute";
import { connectProxy, proxyPort } from "./proxy";

// The product's proxy runs as a primary with two workers (PROXY_WORKERS=2 in the test setup): clients are
// spread over both, the primary serves their metrics summed, and a worker that dies is replaced while the
// other one keeps serving.

/** Pids of this product's proxy workers (from their environment: PROXY_WORKER_INDEX and our PROXY_PORT). */
function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let env: string;
    try {
      env = fs.readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue;
    }
    const vars = env.split("\0");
    if (vars.includes(`PROXY_PORT=${proxyPort()}`) && vars.some((v) => v.startsWith("PROXY_WORKER_INDEX="))) pids.push(Number(entry));
  }
  return pids;
}

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${inject("metricsPort")}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? NaN);
}

describe("proxy: one worker per core", () => {
  it("spreads clients over its workers and sums their metrics", async () => {
    expect(workerPids()).toHaveLength(2);
    const c = await createProjectWithCompute(await newTenant());
    const before = await counter("proxy_connections_total");
    const conns = await Promise.all(Array.from({ length: 4 }, () => connectProxy(`${c.slug}.app`, c.password)));
    // Connection ids are unique across workers (each has its own slot of ids); round-robin gives each some.
    const ids = conns.map((conn) => conn.threadId!);
    expect(new Set(ids).size).toBe(4);
    expect(new Set(ids.map((id) => Math.floor(id / PROXY_SLOT_SIZE))).size).toBe(2);
    expect(await counter("proxy_connections_total")).toBe(before + 4);
    await Promise.all(conns.map((conn) => conn.end()));
  });

  it("replaces a worker that dies, and keeps serving meanwhile", async () => {
    const c = await createProjectWithCompute(await newTenant());
    const [victim, survivor] = workerPids();
    process.kill(victim!, "SIGKILL");
    // Once the primary has seen it die (reaped it), new clients go to the live worker only. (A connection
    // handed to a worker in the instant it dies is lost with it, as with any crashed process.)
    await waitFor(async () => !fs.existsSync(`/proc/${victim}`), 5_000, "the primary to reap the dead worker");
    for (let i = 0; i < 4; i++) {
      const conn = await connectProxy(`${c.slug}.app`, c.password, { connectTimeout: 5_000 });
      expect((await conn.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
      await conn.end();
    }
    const pids = await waitFor(async () => {
      const now = workerPids();
      return now.length === 2 && !now.includes(victim!) ? now : null;
    }, 15_000, "a new proxy worker");
    expect(pids).toContain(survivor);
  });

  it("drains all workers on SIGTERM: new clients refused, open sessions served until the limit, then exit", async () => {
    // A proxy of its own (`npm run proxy`), so that this test can stop it.
    const { child, port } = await spawnProxy(process.env, {
      DATA_DIR: inject("dataDir"),
      DATABASE_URL: inject("databaseUrl"),
      PROXY_WORKERS: "2",
      PROXY_DRAIN_TIMEOUT_MS: "1500",
      LOG_LEVEL: "warn",
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const c = await createProjectWithCompute(await newTenant());
      const open = (user = `${c.slug}.app`) => mysql.createConnection({ host: "127.0.0.1", port, user, password: c.password });
      // Two sessions: round-robin puts one on each worker.
      const sessions = [await open(), await open()];
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
      await expect(
        new Promise((resolve, reject) => net.connect(port, "127.0.0.1").once("connect", resolve).once("error", reject)),
      ).rejects.toMatchObject({ code: "ECONNREFUSED" });
      for (const conn of sessions) expect((await conn.query("SELECT 3 AS n"))[0]).toEqual([{ n: 3 }]);
      expect(await exited).toBe(0);
      for (const conn of sessions) {
        await expect(conn.query("SELECT 4")).rejects.toThrow();
        conn.destroy();
      }
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});
