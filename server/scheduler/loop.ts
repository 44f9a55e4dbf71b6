import { config } from "../config";
import { logger } from "../logger";
import { reconcileAll } from "../compute/lifecycle/reconcile";
import { pruneDeadProxies } from "../proxy-activity";
import { pauseIdleComputes, suspendColdComputes } from "./idle";
import { suspendExhaustedOrganizations } from "./suspend-exhausted";
import { enforceSpendCaps } from "./enforce-spend-caps";
import { rollupClosedHours } from "../usage/rollup";
import { sampleStorage } from "../usage/storage-sampling";
import { finalizeClosedMonths } from "../billing/finalize-invoices";
import { WorkPool, type WorkPoolStats } from "./work-pool";

// The control plane's periodic work, run in the Next.js server process (started from instrumentation.ts).
// One tick decides: which computes the reconciler must look after (adoption after a restart, crashed
// processes, transitions whose owner died), which running computes are idle, which paused ones go cold,
// which free organizations have used their CU-hours and which organizations reached their spend cap
// (their computes are suspended; the cap's 80 and 100 % alerts are recorded); then it forgets dead
// proxies, rolls up the usage of closed hours (server/usage/rollup.ts) and samples storage hourly
// (server/usage/storage-sampling.ts) and writes the last month's invoices once it is over
// (server/billing/finalize-invoices.ts). The acting (starts, restarts, stops, pauses) is queued on a bounded
// work pool and happens off the tick, so a tick costs database queries and /proc reads only, whatever a
// compute does: one whose start takes a minute delays no other tenant's pause. Ticks never overlap within
// a process; across replicas every action is a compare-and-set made inside its job.

export interface SchedulerStatus {
  running: boolean;
  startedAt: string | null;
  lastTickAt: string | null;
  lastTickMs: number | null;
  lastError: string | null;
  intervalMs: number;
  /** The work pool: queued, running and overdue jobs. */
  jobs: WorkPoolStats;
}

interface SchedulerState {
  timer: NodeJS.Timeout | null;
  status: Omit<SchedulerStatus, "jobs">;
  stopping: boolean;
}

const g = globalThis as unknown as { __scheduler?: SchedulerState; __schedulerPool?: WorkPool };

/**
 * The process's work pool (made on first use). A job may hold its slot as long as a transition's lease:
 * every transition a job begins takes its lease inside the job, so the lease always outlasts the deadline;
 * a job still going at its deadline is logged and loses its slot, and once the lease runs out any
 * replica's reconciler finishes the transition (starts are idempotent).
 */
export function schedulerPool(): WorkPool {
  g.__schedulerPool ??= new WorkPool({
    concurrency: config().SCHEDULER_CONCURRENCY,
    deadlineMs: config().TRANSITION_LEASE_SECONDS * 1000,
  });
  return g.__schedulerPool;
}

export function schedulerStatus(): SchedulerStatus | null {
  const state = g.__scheduler;
  return state ? { ...state.status, jobs: schedulerPool().stats() } : null;
}

/** One tick: decide and queue. Resolves without waiting for the queued jobs. */
export async function runTick(pool: WorkPool = schedulerPool()): Promise<void> {
  const state = g.__scheduler;
  const started = Date.now();
  try {
    await reconcileAll(pool);
    await pauseIdleComputes(pool);
    await suspendColdComputes(pool);
    await suspendExhaustedOrganizations(pool);
    await enforceSpendCaps(pool);
    await pruneDeadProxies();
    // Last: a rollup catching up after downtime (a day of hours at most per tick) delays no decision above.
    await rollupClosedHours();
    await sampleStorage();
    await finalizeClosedMonths();
    if (state) state.status.lastError = null;
  } catch (error) {
    logger.error({ err: String(error) }, "scheduler tick failed");
    if (state) state.status.lastError = error instanceof Error ? error.message : String(error);
  } finally {
    const ms = Date.now() - started;
    if (state) {
      state.status.lastTickAt = new Date().toISOString();
      state.status.lastTickMs = ms;
      if (ms > state.status.intervalMs) logger.warn({ ms, intervalMs: state.status.intervalMs }, "scheduler tick took longer than its interval");
    }
  }
}

/** Start the loop once per process (idempotent across Next's hot reloads). */
export function startScheduler(): void {
  if (g.__scheduler) return;
  const intervalMs = config().SCHEDULER_INTERVAL_MS;
  const state: SchedulerState = {
    timer: null,
    stopping: false,
    status: { running: true, startedAt: new Date().toISOString(), lastTickAt: null, lastTickMs: null, lastError: null, intervalMs },
  };
  g.__scheduler = state;
  const pool = schedulerPool();
  const loop = async () => {
    if (state.stopping) return;
    await runTick(pool);
    if (!state.stopping) state.timer = setTimeout(loop, intervalMs);
  };
  void loop();
  process.once("SIGTERM", stopScheduler);
  process.once("SIGINT", stopScheduler);
  logger.info({ intervalMs, concurrency: pool.concurrency, perOrganization: pool.perGroup }, "scheduler started");
}

/**
 * Stop ticking and stop taking jobs. Queued jobs are dropped (nothing was begun for them); running ones
 * finish if the process lives long enough, or are left to their lease (the reconciler finishes them).
 */
export function stopScheduler(): void {
  const state = g.__scheduler;
  if (!state) return;
  state.stopping = true;
  state.status.running = false;
  if (state.timer) clearTimeout(state.timer);
  const jobs = g.__schedulerPool?.stats();
  g.__schedulerPool?.close();
  if (jobs && jobs.running + jobs.overdue > 0) logger.info({ running: jobs.running, overdue: jobs.overdue }, "scheduler stopped; running jobs left to finish or to their lease");
}
