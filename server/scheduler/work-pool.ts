import { logger } from "../logger";

// The scheduler's bounded work pool. The tick only decides what to do; the doing (starting, restarting,
// stopping, pausing a compute: seconds each, and as long as a tenant can make a start take) happens here,
// off the tick, so one slow compute never holds up another tenant's pause.
//
// - Bounded: at most `concurrency` jobs run at once; the rest wait in a queue.
// - One job per key (a compute id): a compute that has a job queued or running is not queued again, so a
//   tick that sees the same compute again while its start is under way does nothing for it.
// - Fair: one group (an organization) runs at most `perGroup` jobs at once, so one tenant with many slow
//   computes cannot take every slot; the queue is served in order among the groups that have room.
// - Deadlines: a job running longer than `deadlineMs` gives its slot back (the pool stops waiting for it,
//   logs it and reports it as overdue). JavaScript cannot cancel the work itself; the drivers bound their
//   own calls, and the compute stays reserved (not queued again here) until the job settles. It still
//   counts against its group, so a tenant's stuck jobs only use up that tenant's share.
// - Closing stops taking jobs and drops the queued ones (nothing was begun for them: every job re-reads
//   its compute and makes its own compare-and-set), while running jobs finish or are left to their lease.

export interface Job {
  /** One job per key at a time (the compute's id). */
  key: string;
  /** Jobs of one group share at most `perGroup` slots (the compute's organization). */
  group: string;
  /** What the job does, for logs and health. */
  label: string;
  run: () => Promise<unknown>;
}

export interface WorkPoolOptions {
  concurrency: number;
  /** How long a job may hold its slot. */
  deadlineMs: number;
  /** Default: half the slots (at least one), so one group always leaves room for the others. */
  perGroup?: number;
  /** A queue longer than this takes nothing more until it shrinks (the next tick decides again). */
  maxQueued?: number;
}

export interface WorkPoolStats {
  concurrency: number;
  perGroup: number;
  queued: number;
  running: number;
  /** Jobs past their deadline that have not settled yet (they hold no slot). */
  overdue: number;
  closed: boolean;
}

interface Running {
  job: Job;
  startedAt: number;
  overdue: boolean;
  timer: NodeJS.Timeout;
}

export class WorkPool {
  readonly concurrency: number;
  readonly perGroup: number;
  private readonly deadlineMs: number;
  private readonly maxQueued: number;
  private readonly queue: Job[] = [];
  private readonly keys = new Set<string>();
  private readonly running = new Map<string, Running>();
  private readonly perGroupRunning = new Map<string, number>();
  private slotsInUse = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: WorkPoolOptions) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency));
    this.perGroup = Math.max(1, Math.min(this.concurrency, options.perGroup ?? Math.floor(this.concurrency / 2)));
    this.deadlineMs = options.deadlineMs;
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  /** Queue a job. False when its key already has one queued or running, the queue is full, or the pool is closed. */
  enqueue(job: Job): boolean {
    if (this.closed || this.keys.has(job.key) || this.queue.length >= this.maxQueued) return false;
    this.keys.add(job.key);
    this.queue.push(job);
    this.pump();
    return true;
  }

  /** Whether the key has a job queued or running (an overdue one included). */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  stats(): WorkPoolStats {
    const overdue = [...this.running.values()].filter((r) => r.overdue).length;
    return {
      concurrency: this.concurrency,
      perGroup: this.perGroup,
      queued: this.queue.length,
      running: this.running.size - overdue,
      overdue,
      closed: this.closed,
    };
  }

  /** Stop taking jobs and drop the queued ones; running jobs go on until they settle. */
  close(): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.keys.delete(job.key);
    this.notifyIfIdle();
  }

  /** Resolves once nothing is queued or running (overdue jobs included). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.slotsInUse < this.concurrency) {
      const index = this.queue.findIndex((job) => (this.perGroupRunning.get(job.group) ?? 0) < this.perGroup);
      if (index < 0) return;
      const [job] = this.queue.splice(index, 1);
      this.start(job!);
    }
  }

  private start(job: Job): void {
    this.slotsInUse++;
    this.perGroupRunning.set(job.group, (this.perGroupRunning.get(job.group) ?? 0) + 1);
    const entry: Running = {
      job,
      startedAt: Date.now(),
      overdue: false,
      timer: setTimeout(() => this.overdue(entry), this.deadlineMs),
    };
    entry.timer.unref();
    this.running.set(job.key, entry);
    // Run on a later turn: a job that throws synchronously must not break the caller's loop.
    void Promise.resolve()
      .then(job.run)
      .catch((error: unknown) => logger.error({ computeId: job.key, job: job.label, err: String(error) }, "scheduler job failed"))
      .finally(() => this.settle(entry));
  }

  private overdue(entry: Running): void {
    entry.overdue = true;
    this.slotsInUse--;
    logger.warn(
      { computeId: entry.job.key, job: entry.job.label, deadlineMs: this.deadlineMs },
      "scheduler job passed its deadline; its slot is freed and its lease left to run out",
    );
    this.pump();
  }

  private settle(entry: Running): void {
    clearTimeout(entry.timer);
    if (!entry.overdue) this.slotsInUse--;
    else logger.warn({ computeId: entry.job.key, job: entry.job.label, ms: Date.now() - entry.startedAt }, "overdue scheduler job settled");
    const group = entry.job.group;
    const left = (this.perGroupRunning.get(group) ?? 1) - 1;
    if (left > 0) this.perGroupRunning.set(group, left);
    else this.perGroupRunning.delete(group);
    this.running.delete(entry.job.key);
    this.keys.delete(entry.job.key);
    if (!this.closed) this.pump();
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.queue.length > 0 || this.running.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
