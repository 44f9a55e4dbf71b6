import type { ChildProcess } from "node:child_process";
import mysql from "mysql2/promise";
import { inject } from "vitest";
import { spawnProxy } from "../scripts/scratch-product";
import type { Tenant } from "./api";
import { connectDirect, waitFor, type CreatedCompute } from "./compute";
import { computeOf } from "./parking";

// What the pooling tests (issue 15) share: a proxy of one process with limits of the test's choosing
// (`npm run proxy`, so that its server-connection limit is the whole proxy's, not one worker's share), and
// a look at the compute from outside the proxy: how many of the role's connections it has now.

export interface OwnProxy {
  port: number;
  stop(): Promise<void>;
}

export async function startOwnProxy(settings: Record<string, string>): Promise<OwnProxy> {
  const { child, port } = await spawnProxy(process.env, {
    DATA_DIR: inject("dataDir"),
    DATABASE_URL: inject("databaseUrl"),
    PROXY_WORKERS: "1",
    LOG_LEVEL: "warn",
    ...settings,
  });
  return { port, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A client of the compute's role `app` through `proxy`, as an application connects. */
export function connectThrough(proxy: OwnProxy, c: CreatedCompute, extra: Partial<mysql.ConnectionOptions> = {}) {
  return mysql.createConnection({
    host: "127.0.0.1",
    port: proxy.port,
    user: `${c.slug}.app`,
    password: c.password,
    database: "main",
    connectTimeout: 60_000,
    ...extra,
  });
}

/**
 * Counts the role's connections on the compute (information_schema.PROCESSLIST, the compute's own view,
 * asked over a direct session that leaves itself out) every `everyMs` until stopped; the proxy logs in to
 * the compute as the role, so these are its server connections.
 */
export class ServerConnectionSampler {
  private readonly counts: number[] = [];
  /** Why sampling stopped early (e.g. the compute refused the direct session: it was full). */
  failure: string | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly tenant: Tenant,
    private readonly c: CreatedCompute,
    private readonly everyMs = 100,
  ) {}

  /** Starts once the compute runs (a suspended one is woken by the clients, not by this). */
  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      this.failure = (error as Error).message;
    });
  }

  private async run(): Promise<void> {
    const running = await waitFor(
      async () => {
        if (this.stopped) return { endpoint: null };
        const now = await computeOf(this.tenant, this.c.computeId);
        return now.state === "running" && now.endpoint ? now : null;
      },
      120_000,
      "the compute to run",
    );
    if (!running.endpoint) return;
    const direct = await connectDirect(running.endpoint, this.c.password);
    try {
      while (!this.stopped) {
        const [rows] = await direct.query<mysql.RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'app' AND ID <> CONNECTION_ID()",
        );
        this.counts.push(Number(rows[0]!.n));
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    } finally {
      await direct.end().catch(() => direct.destroy());
    }
  }

  /** Stops sampling; the samples taken. */
  async stop(): Promise<number[]> {
    this.stopped = true;
    await this.loop;
    return this.counts;
  }
}
