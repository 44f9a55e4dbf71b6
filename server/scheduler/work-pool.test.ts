import { describe, expect, it } from "vitest";
import { WorkPool } from "./work-pool";

// The pool's promises, with jobs that finish when the test says so.

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("scheduler work pool", () => {
  it("runs at most `concurrency` jobs, one per key, and the rest in order", async () => {
    const pool = new WorkPool({ concurrency: 2, perGroup: 2, deadlineMs: 60_000 });
    const gates = [gate(), gate(), gate()];
    const started: string[] = [];
    const job = (key: string, i: number) => ({ key, group: "org", label: "t", run: () => (started.push(key), gates[i]!.promise) });
    expect(pool.enqueue(job("a", 0))).toBe(true);
    expect(pool.enqueue(job("a", 0))).toBe(false); // already queued or running
    expect(pool.enqueue(job("b", 1))).toBe(true);
    expect(pool.enqueue(job("c", 2))).toBe(true);
    await tick();
    expect(started).toEqual(["a", "b"]);
    expect(pool.stats()).toMatchObject({ queued: 1, running: 2 });
    gates[0]!.open();
    await tick();
    await tick();
    expect(started).toEqual(["a", "b", "c"]);
    expect(pool.has("a")).toBe(false);
    gates[1]!.open();
    gates[2]!.open();
    await pool.drain();
    expect(pool.stats()).toMatchObject({ queued: 0, running: 0, overdue: 0 });
  });

  it("leaves room for other organizations when one has many slow jobs", async () => {
    const pool = new WorkPool({ concurrency: 4, deadlineMs: 60_000 }); // two slots per organization
    const slow = gate();
    const started: string[] = [];
    for (const key of ["t1", "t2", "t3", "t4"]) {
      pool.enqueue({ key, group: "noisy", label: "slow start", run: () => (started.push(key), slow.promise) });
    }
    pool.enqueue({ key: "other", group: "quiet", label: "pause", run: async () => void started.push("other") });
    await tick();
    expect(started).toEqual(["t1", "t2", "other"]);
    slow.open();
    await pool.drain();
    expect(started).toEqual(["t1", "t2", "other", "t3", "t4"]);
  });

  it("frees the slot of a job past its deadline but keeps its compute reserved until it ends", async () => {
    const pool = new WorkPool({ concurrency: 1, deadlineMs: 20 });
    const stuck = gate();
    let ran = false;
    pool.enqueue({ key: "stuck", group: "a", label: "hung start", run: () => stuck.promise });
    pool.enqueue({ key: "next", group: "b", label: "pause", run: async () => void (ran = true) });
    await new Promise((r) => setTimeout(r, 60));
    expect(ran).toBe(true);
    expect(pool.stats()).toMatchObject({ running: 0, overdue: 1 });
    expect(pool.enqueue({ key: "stuck", group: "a", label: "again", run: async () => undefined })).toBe(false);
    stuck.open();
    await pool.drain();
    expect(pool.has("stuck")).toBe(false);
  });

  it("takes nothing once closed and drops what was queued", async () => {
    const pool = new WorkPool({ concurrency: 1, deadlineMs: 60_000 });
    const running = gate();
    let queuedRan = false;
    pool.enqueue({ key: "a", group: "g", label: "t", run: () => running.promise });
    pool.enqueue({ key: "b", group: "h", label: "t", run: async () => void (queuedRan = true) });
    pool.close();
    expect(pool.enqueue({ key: "c", group: "g", label: "t", run: async () => undefined })).toBe(false);
    running.open();
    await pool.drain();
    expect(queuedRan).toBe(false);
  });

  it("keeps going after a job throws", async () => {
    const pool = new WorkPool({ concurrency: 1, deadlineMs: 60_000 });
    let ran = false;
    pool.enqueue({ key: "a", group: "g", label: "t", run: () => Promise.reject(new Error("boom")) });
    pool.enqueue({ key: "b", group: "g", label: "t", run: async () => void (ran = true) });
    await pool.drain();
    expect(ran).toBe(true);
  });
});
