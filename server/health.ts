import { db } from "./db";
import { config } from "./config";
import { isolation } from "./compute/drivers/local/isolation";
import { schedulerStatus } from "./scheduler/loop";
import type { WorkPoolStats } from "./scheduler/work-pool";
import { liveProxies } from "./proxy-activity";

export interface HealthCheck {
  ok: boolean;
  detail: string;
}

/** Readiness: the database answers and is migrated, the scheduler ticks, a proxy is live. Says what is not ready. */
export async function readiness(): Promise<{ ready: boolean; checks: Record<string, HealthCheck> }> {
  const checks: Record<string, HealthCheck> = {};
  try {
    const rows = await db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`;
    checks.database = { ok: true, detail: `reachable, ${Number(rows[0]?.n ?? 0)} migrations applied` };
  } catch (error) {
    checks.database = { ok: false, detail: `not reachable or not migrated: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` };
  }
  const scheduler = schedulerStatus();
  if (!scheduler?.running) {
    checks.scheduler = { ok: false, detail: "not running in this process" };
  } else {
    const last = scheduler.lastTickAt ? Date.parse(scheduler.lastTickAt) : null;
    const stale = last === null || Date.now() - last > Math.max(3 * scheduler.intervalMs, 30_000);
    checks.scheduler = stale
      ? { ok: false, detail: last === null ? "waiting for its first tick" : `last tick at ${scheduler.lastTickAt}, overdue` }
      : { ok: true, detail: `last tick at ${scheduler.lastTickAt} (${scheduler.lastTickMs} ms); ${jobsDetail(scheduler.jobs)}` };
  }
  try {
    const proxies = await liveProxies();
    checks.proxy = proxies.length > 0
      ? { ok: true, detail: `${proxies.length} live proxy ${proxies.length === 1 ? "process" : "processes"} (workers count singly)` }
      : { ok: false, detail: "no proxy has sent a heartbeat recently" };
  } catch {
    checks.proxy = { ok: false, detail: "could not read proxy heartbeats" };
  }
  const ready = Object.values(checks).every((c) => c.ok);
  // Informational, not a condition of readiness: a developer's machine without root runs unisolated.
  if (config().COMPUTE_DRIVER === "local") {
    const found = await isolation().catch(() => null);
    checks.isolation = {
      ok: true,
      detail: found === null ? "unknown" : found.missing.length === 0 ? "enforced" : `not enforced: ${found.missing.join("; ")}`,
    };
  }
  return { ready, checks };
}

/** The scheduler's work pool in a few words: what waits, what runs, what is past its deadline. */
function jobsDetail(jobs: WorkPoolStats): string {
  return `jobs: ${jobs.queued} queued, ${jobs.running} running of ${jobs.concurrency}, ${jobs.overdue} overdue`;
}
