import { describe, expect, inject, it } from "vitest";
import { call, newTenant, type Tenant } from "./api";
import { connectDirect, createProjectWithCompute, pidOf, waitFor } from "./compute";
import { connectProxy } from "./proxy";

// Issue 8, item 4: one tenant cannot stall the scheduler. A tenant fills its compute's grant tables (the
// `mysql` schema is writable by its roles: MariaDB has no partial revokes), so every start of that compute
// is slow: mariadbd loads every account, and the init file revokes the FILE privilege the tenant wrote into
// some of them (each REVOKE rewrites the grant tables). Its server then ends (a tenant who escalated could
// SHUTDOWN; here the test stops it), and the reconciler restarts it. Meanwhile another tenant's idle
// compute must still be paused on time, not after the slow start is over.

/** Accounts added to the slow compute's mysql.global_priv. */
const SLOW_ACCOUNTS = 30_000;
/**
 * Every how many of them holds FILE. The init file leaves accounts without a denied privilege alone, so the
 * start's time is in these: measured on a 2-core machine of this kind under a load average of 20, 30,000
 * accounts of which 400 held FILE started in 7 s, 2,000 in 88 s (each REVOKE takes longer the more accounts
 * there are). 666 of them: a few seconds on a quiet machine, 10-20 s on a busy one: long next to a 1 s
 * scheduler tick, and inside the local driver's 30 s start timeout.
 */
const WITH_FILE_EVERY = 45;

interface Op {
  kind: string;
  status: string;
  actor: string;
}

async function state(tenant: Tenant, computeId: string): Promise<string> {
  const res = await call<{ compute: { state: string } }>("GET", `/api/v1/compute/${computeId}/status`, { key: tenant.key });
  return res.body.compute.state;
}

async function latestOperation(tenant: Tenant, projectId: string): Promise<Op | undefined> {
  return (await call<{ operations: Op[] }>("GET", `/api/v1/projects/${projectId}/operations`, { key: tenant.key })).body.operations[0];
}

describe("scheduler: one tenant cannot stall it", () => {
  it("pauses another tenant's idle compute while a slow restart is still under way", async () => {
    const slowTenant = await newTenant();
    const otherTenant = await newTenant();
    const slow = await createProjectWithCompute(slowTenant, { suspendTimeoutSeconds: 0 });
    const other = await createProjectWithCompute(otherTenant, { suspendTimeoutSeconds: 0 });

    // What the tenant can do with its own role: tens of thousands of accounts in the grant tables.
    const conn = await connectDirect(slow.endpoint, slow.password);
    await conn.query(
      `INSERT INTO mysql.global_priv (Host, User, Priv) SELECT '%', CONCAT('slow', seq), ` +
        `IF(MOD(seq, ${WITH_FILE_EVERY}) = 0, '{"access":512}', '{}') FROM seq_1_to_${SLOW_ACCOUNTS}`,
    );
    await conn.end();
    // The server ends (as with SHUTDOWN): the reconciler restarts it, slowly.
    process.kill(pidOf(inject("dataDir"), slow.computeId)!, "SIGTERM");
    await waitFor(
      async () => {
        const op = await latestOperation(slowTenant, slow.projectId);
        return op?.kind === "restart_compute" && op.status === "running";
      },
      15_000,
      "the reconciler to begin restarting the slow compute",
    );

    // Now the other tenant's compute becomes idle-pausable (1 s timeout, 1 s ticks in the tests).
    const patched = await call("PATCH", `/api/v1/compute/${other.computeId}`, { key: otherTenant.key, body: { suspendTimeoutSeconds: 1 } });
    expect(patched.status).toBe(200);
    await waitFor(async () => (await state(otherTenant, other.computeId)) === "paused", 30_000, "the other tenant's compute to pause");

    // The pause happened while the slow start was still going: the restart had not finished.
    expect(await latestOperation(slowTenant, slow.projectId)).toMatchObject({ kind: "restart_compute", status: "running" });
    expect(await state(slowTenant, slow.computeId)).toBe("resuming");
    expect(await latestOperation(otherTenant, other.projectId)).toMatchObject({ kind: "pause_compute", status: "succeeded", actor: "scheduler" });

    // And the slow compute does come back, with its data.
    await waitFor(async () => (await state(slowTenant, slow.computeId)) === "running", 60_000, "the slow restart to finish");
    expect(await latestOperation(slowTenant, slow.projectId)).toMatchObject({ kind: "restart_compute", status: "succeeded" });
    const client = await connectProxy(`${slow.slug}.app`, slow.password);
    const [rows] = await client.query("SELECT COUNT(*) AS n FROM mysql.global_priv WHERE User LIKE 'slow%'");
    expect(rows).toEqual([{ n: SLOW_ACCOUNTS }]);
    await client.end();
  }, 120_000);
});
