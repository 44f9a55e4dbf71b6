import fs from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { connectDirect, createProjectWithCompute, pidOf, processAlive, waitFor } from "./compute";
import { pauseCompute } from "../server/compute/lifecycle/pause";
import { suspendCompute } from "../server/compute/lifecycle/suspend";

// A thaw commits asynchronously (server/compute/lifecycle/wake.ts): a PostgreSQL crash right after it can
// leave the row `paused` while the process runs and a client uses it. That state is made here by hand
// (the compute paused, then its process continued with SIGCONT, as the lost thaw did) and the product's
// own scheduler (1 s ticks in the tests) must neither freeze nor stop a compute in use.

interface Op {
  kind: string;
  actor: string;
  reason: string;
}

async function state(key: string, computeId: string): Promise<string> {
  return (await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${computeId}/status`, { key })).body.compute.state;
}

async function operations(key: string, projectId: string): Promise<Op[]> {
  return (await call<{ operations: Op[] }>("GET", `/api/v1/projects/${projectId}/operations`, { key })).body.operations;
}

/** Whether the process is frozen (SIGSTOP: state T in /proc). */
function frozen(pid: number): boolean {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0] === "T";
}

async function pausedByHand(computeId: string): Promise<number> {
  expect(await pauseCompute({ actor: { system: "operator" }, computeId, reason: "paused by the test" })).not.toBeNull();
  const pid = pidOf(inject("dataDir"), computeId)!;
  expect(frozen(pid)).toBe(true);
  return pid;
}

describe("a paused row whose process runs (a thaw whose record was lost)", () => {
  it("with a session on it: never frozen or stopped; recorded running, and the session goes on", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const pid = await pausedByHand(c.computeId);

    // The client connects to the frozen server (as a proxy's early login does) and the process is let go.
    const connecting = connectDirect(c.endpoint, c.password);
    process.kill(pid, "SIGCONT");
    const conn = await connecting;
    await conn.query("CREATE TABLE t (id INT PRIMARY KEY)");

    // A non-forced suspend (the scheduler going cold) leaves it alone while the row still says paused.
    await suspendCompute({ actor: { system: "scheduler" }, computeId: c.computeId, reason: "cold, by the test" });
    expect(processAlive(pid)).toBe(true);

    await waitFor(async () => (await state(tenant.key, c.computeId)) === "running", 15_000, "the reconciler to record it running");
    const [rows] = await conn.query("INSERT INTO t VALUES (1)");
    expect(rows).toMatchObject({ affectedRows: 1 });
    expect(frozen(pid)).toBe(false);
    await conn.end();
    const ops = await operations(tenant.key, c.projectId);
    expect(ops[0]).toMatchObject({ kind: "resume_compute", actor: "reconciler", reason: expect.stringContaining("recorded paused") });
    expect(ops.some((o) => o.kind === "suspend_compute")).toBe(false);
  });

  it("without a session: frozen again, and still paused", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const pid = await pausedByHand(c.computeId);
    process.kill(pid, "SIGCONT");
    expect(frozen(pid)).toBe(false);
    await waitFor(async () => frozen(pid), 15_000, "the reconciler to freeze it again");
    expect(await state(tenant.key, c.computeId)).toBe("paused");
    expect((await operations(tenant.key, c.projectId)).map((o) => o.kind)).toEqual(["pause_compute", "create_compute"]);
  });
});
