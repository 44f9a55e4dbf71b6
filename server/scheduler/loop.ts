import { config } from "../config";
import { logger } from "../logger";
import { reconcileAll } from "../compute/reconcile";
import { pruneDeadProxies } from "../proxy-activity";
import { pauseIdleComputes, suspendColdComputes } from "./idle";

// The control plane's periodic work, run in the Next.js server process (started from instrumentation.ts).
// One tick: reconcile every compute (adoption after a restart, crashed processes, transitions whose owner
// died), pause idle running computes, suspend computes paused long enough, forget dead proxies. Ticks
// never overlap within a process; across replicas every action is a compare-and-set.

export interface SchedulerStatus {
  running: boolean;
  startedAt: string | null;
  lastTickAt: string | null;
  lastTickMs: number | null;
  lastError: string | null;
  intervalMs: number;
}

interface SchedulerState {
  timer: NodeJS.Timeout | null;
  status: SchedulerStatus;
  stopping: boolean;
}

const g = globalThis as unknown as { __scheduler?: SchedulerState };

export function schedulerStatus(): SchedulerStatus | null {
  return g.__scheduler?.status ?? null;
}

export async function runTick(): Promise<void> {
  const state = g.__scheduler;
  const started = Date.now();
  try {
    await reconcileAll();
    await pauseIdleComputes();
    await suspendColdComputes();
    await pruneDeadProxies();
    if (state) state.status.lastError = null;
  } catch (error) {
    logger.error({ err: String(error) }, "scheduler tick failed");
    if (state) state.status.lastError = error instanceof Error ? error.message : String(error);
  } finally {
    if (state) {
      state.status.lastTickAt = new Date().toISOString();
      state.status.lastTickMs = Date.now() - started;
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
  const loop = async () => {
    if (state.stopping) return;
    await runTick();
    if (!state.stopping) state.timer = setTimeout(loop, intervalMs);
  };
  void loop();
  process.once("SIGTERM", stopScheduler);
  process.once("SIGINT", stopScheduler);
  logger.info({ intervalMs }, "scheduler started");
}

export function stopScheduler(): void {
  const state = g.__scheduler;
  if (!state) return;
  state.stopping = true;
  state.status.running = false;
  if (state.timer) clearTimeout(state.timer);
}
