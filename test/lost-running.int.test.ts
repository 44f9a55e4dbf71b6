import { describe, expect, inject, it } from "vitest";
import { call, newTenant } from "./api";
import { createProjectWithCompute, mariadbdCount, pidOf, processAlive, waitFor } from "./compute";
import { connectProxy } from "./proxy";
import { db } from "../server/db";

// A cold start records `running` with an asynchronous commit (server/compute/lifecycle/finish.ts), after
// the move into `resuming` is known to be on disk. A PostgreSQL crash right after it leaves the row as the
// durable move wrote it: `resuming` with a lease, no address, the operation running and the open usage
// interval `resuming`, while the server runs and a client uses it through the proxy. That row is made here
// by hand, its lease already expired, and the product's own reconciler (1 s ticks in the tests) must adopt
// the server: record it running without starting a second one or stopping the one with the session.

interface Op {
  kind: string;
  status: string;
  actor: string;
}

async function state(key: string, computeId: string): Promise<string> {
  return (await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${computeId}/status`, { key })).body.compute.state;
}

/** Put the row back to what the durable move into `resuming` left: the commit of `running` never happened. */
async function loseTheRunningCommit(computeId: string): Promise<Date> {
  const lostAt = new Date();
  await db.$transaction(async (tx) => {
    const running = await tx.usageEvent.findFirstOrThrow({ where: { computeId, endedAt: null } });
    expect(running.state).toBe("running");
    await tx.usageEvent.delete({ where: { id: running.id } });
    const resuming = await tx.usageEvent.findFirstOrThrow({ where: { computeId, state: "resuming" }, orderBy: { startedAt: "desc" } });
    await tx.usageEvent.update({ where: { id: resuming.id }, data: { endedAt: null } });
    const op = await tx.operation.findFirstOrThrow({ where: { computeId, kind: "resume_compute" }, orderBy: { createdAt: "desc" } });
    await tx.operation.update({ where: { id: op.id }, data: { status: "running", finishedAt: null, error: null } });
    await tx.compute.update({
      where: { id: computeId },
      data: {
        state: "resuming",
        version: { decrement: 1 },
        leaseUntil: new Date(Date.now() - 1000), // its owner's lease ran out
        endpointHost: null,
        endpointPort: null,
        endpointSocket: null,
      },
    });
  });
  return lostAt;
}

describe("a cold start whose `running` record PostgreSQL lost", () => {
  it("is adopted by the reconciler: the session goes on, one server, running and billed from the recovery", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const suspended = await call("POST", `/api/v1/compute/${c.computeId}/suspend`, { key: tenant.key });
    expect(suspended.status).toBe(200);

    // A client wakes it through the proxy (a cold start) and keeps its session.
    const conn = await connectProxy(`${c.slug}.app`, c.password);
    await conn.query("CREATE TABLE t (id INT PRIMARY KEY)");
    const pid = pidOf(inject("dataDir"), c.computeId)!;
    expect(pid).toBeGreaterThan(0);

    const lostAt = await loseTheRunningCommit(c.computeId);
    await waitFor(async () => (await state(tenant.key, c.computeId)) === "running", 20_000, "the reconciler to record it running");

    // The same server, the same session.
    const [inserted] = await conn.query("INSERT INTO t VALUES (1)");
    expect(inserted).toMatchObject({ affectedRows: 1 });
    expect(processAlive(pid)).toBe(true);
    expect(pidOf(inject("dataDir"), c.computeId)).toBe(pid);
    expect(mariadbdCount(inject("dataDir"), c.computeId)).toBe(1);
    await conn.end();

    // The wake's own operation is the one finished; nothing stopped or restarted the compute.
    const ops = (await call<{ operations: Op[] }>("GET", `/api/v1/projects/${c.projectId}/operations`, { key: tenant.key })).body.operations;
    expect(ops.map((o) => o.kind)).toEqual(["resume_compute", "suspend_compute", "create_compute"]);
    expect(ops[0]).toMatchObject({ status: "succeeded", actor: "proxy" });

    // Billed without a gap: `resuming` from the wake until the recovery, `running` from then on.
    const intervals = await db.usageEvent.findMany({ where: { computeId: c.computeId }, orderBy: { startedAt: "asc" } });
    const [resuming, running] = intervals.slice(-2);
    expect(running).toMatchObject({ state: "running", endedAt: null });
    expect(running!.startedAt.getTime()).toBeGreaterThanOrEqual(lostAt.getTime());
    expect(resuming).toMatchObject({ state: "resuming", endedAt: running!.startedAt });
    expect(resuming!.startedAt.getTime()).toBeLessThan(lostAt.getTime());
  });
});
