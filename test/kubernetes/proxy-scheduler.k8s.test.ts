import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import mysql from "mysql2/promise";
import { resetConfig } from "@/server/config";
import { db } from "@/server/db";
import { createCompute } from "@/server/compute/lifecycle/create";
import { deleteCompute } from "@/server/compute/lifecycle/delete";
import { suspendCompute } from "@/server/compute/lifecycle/suspend";
import { createProject } from "@/server/projects/projects";
import { startScheduler, stopScheduler } from "@/server/scheduler/loop";
import type { Caller } from "@/server/tenancy/caller";
import { startProxy, type RunningProxy } from "@/proxy/start-proxy";
import { startTestCluster, type TestCluster } from "./harness";

// The product's proxy and scheduler, in this process, with COMPUTE_DRIVER=kubernetes against the fake
// cluster: clients connect through the proxy to servers the driver scaled up, as they would on a cluster.

let t: TestCluster;
let proxy: RunningProxy;

beforeAll(async () => {
  t = await startTestCluster({ readyDelayMs: 300 });
  Object.assign(process.env, {
    COMPUTE_DRIVER: "kubernetes",
    KUBECONFIG: t.kubeconfig,
    MIN_SUSPEND_TIMEOUT_SECONDS: "1",
    SCHEDULER_INTERVAL_MS: "500",
    TRANSITION_LEASE_SECONDS: "30",
    PROXY_WAKE_TIMEOUT_MS: "20000",
    KUBERNETES_START_TIMEOUT_MS: "60000",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  resetConfig();
  proxy = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
  startScheduler();
});

afterAll(async () => {
  stopScheduler();
  await proxy?.stop(0);
  await t?.close();
});

let n = 0;
async function tenantWithCompute(settings: { suspendTimeoutSeconds?: number; coldAfterSeconds?: number; parkIdleSessions?: boolean } = {}) {
  n++;
  const suffix = `${Date.now().toString(36)}${n}`;
  const organization = await db.organization.create({ data: { name: `k8s ${suffix}`, slug: `k8s-${suffix}` } });
  const caller: Caller = {
    actor: "operator:k8s-test",
    userId: null,
    email: null,
    apiKeyId: null,
    organizationIds: [organization.id],
    roles: { [organization.id]: "owner" },
    organizationId: organization.id,
    role: "owner",
  };
  const project = await createProject({ caller, organizationId: organization.id, name: "k8s test" });
  const created = await createCompute({ caller, projectId: project.id, settings: { suspendTimeoutSeconds: 300, coldAfterSeconds: 3600, ...settings } });
  return {
    caller,
    organizationId: organization.id,
    slug: project.slug,
    computeId: created.compute.id,
    password: created.connection.password!,
    namespace: `msl-org-${organization.id}`,
    statefulSet: `compute-${created.compute.id}`,
  };
}

type Tenant = Awaited<ReturnType<typeof tenantWithCompute>>;

const connect = (c: Tenant) =>
  mysql.createConnection({ host: "127.0.0.1", port: proxy.port, user: `${c.slug}.app`, password: c.password, database: "main", connectTimeout: 30_000 });

const replicas = (c: Tenant) => t.api.get("StatefulSet", c.namespace, c.statefulSet)?.spec?.replicas;
const stateOf = async (c: Tenant) => (await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })).state;

/** PATCHes of the compute's StatefulSet that asked for one replica (scale-ups). */
const scaleUps = (c: Tenant) =>
  t.api.requests.filter(
    (r) => r.method === "PATCH" && r.status === 200 && r.path.endsWith(`/statefulsets/${c.statefulSet}`) && (r.body as { spec?: { replicas?: number } }).spec?.replicas === 1,
  ).length;

async function suspended(c: Tenant): Promise<void> {
  await suspendCompute({ actor: { caller: c.caller }, computeId: c.computeId, reason: "test", force: true });
  expect(await stateOf(c)).toBe("suspended");
  expect(replicas(c)).toBe(0);
  expect(t.api.get("Pod", c.namespace, `${c.statefulSet}-0`)).toBeUndefined();
}

describe("kubernetes driver through the proxy and the scheduler", () => {
  it("a client's connection scales the StatefulSet to 1 and gets through once the pod is Ready", async () => {
    // Its sessions do not park: the login itself wakes the compute (a parking compute's login would be
    // answered by the proxy alone, and its first statement would wake it, as in the test below).
    const c = await tenantWithCompute({ parkIdleSessions: false });
    expect((await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })).driver).toBe("kubernetes");
    const first = await connect(c);
    await first.query("CREATE TABLE t (v INT)");
    await first.query("INSERT INTO t VALUES (42)");
    await first.end();
    await suspended(c);

    const conn = await connect(c);
    expect(replicas(c)).toBe(1);
    expect((await conn.query("SELECT v FROM t"))[0]).toEqual([{ v: 42 }]);
    expect(await stateOf(c)).toBe("running");
    await conn.end();
  });

  it("50 clients at once make one scale-up", async () => {
    const c = await tenantWithCompute();
    await suspended(c);
    const before = scaleUps(c);
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(c)));
    const answers = await Promise.all(clients.map(async (conn) => (await conn.query("SELECT 1 AS ok"))[0]));
    expect(answers).toEqual(Array.from({ length: 50 }, () => [{ ok: 1 }]));
    await Promise.all(clients.map((conn) => conn.end()));
    expect(scaleUps(c) - before).toBe(1);
  });

  it("an idle compute is scaled to 0 by the scheduler", async () => {
    const c = await tenantWithCompute({ suspendTimeoutSeconds: 1, coldAfterSeconds: 1 });
    await expect.poll(() => stateOf(c), { timeout: 30_000, interval: 250 }).toBe("suspended");
    expect(replicas(c)).toBe(0);
    expect(t.api.get("Pod", c.namespace, `${c.statefulSet}-0`)).toBeUndefined();
    const ops = await db.operation.findMany({ where: { computeId: c.computeId }, orderBy: { createdAt: "asc" } });
    expect(ops.map((o) => [o.kind, o.actor])).toEqual([
      ["create_compute", "operator:k8s-test"],
      ["pause_compute", "scheduler"],
      ["suspend_compute", "scheduler"],
    ]);
  });

  it("a pod the kubelet fails is restarted, and the compute ends failed after the local driver's crash rule", async () => {
    const c = await tenantWithCompute();
    const pod = `${c.statefulSet}-0`;
    for (let crash = 1; crash <= 3; crash++) {
      const before = await db.compute.findUniqueOrThrow({ where: { id: c.computeId } });
      await t.cluster.failPod(c.namespace, pod);
      if (crash < 3) {
        // noticed by the reconciler and restarted (restart_compute), then running again
        await expect
          .poll(async () => (await db.compute.findUniqueOrThrow({ where: { id: c.computeId } })), { timeout: 30_000, interval: 250 })
          .toMatchObject({ state: "running", crashCount: before.crashCount + 1 });
      }
    }
    await expect.poll(() => stateOf(c), { timeout: 30_000, interval: 250 }).toBe("failed");
    const ops = await db.operation.findMany({ where: { computeId: c.computeId }, orderBy: { createdAt: "asc" } });
    expect(ops.map((o) => o.kind)).toEqual(["create_compute", "restart_compute", "restart_compute", "fail_compute"]);
    expect(ops.at(-1)?.reason).toMatch(/crashed 3 times/);
    // the kubelet restarted the pod after the last crash: the reconciler stops it, a failed compute keeps no pod
    await expect.poll(() => replicas(c), { timeout: 30_000, interval: 250 }).toBe(0);
    await expect.poll(() => t.api.get("Pod", c.namespace, pod), { timeout: 30_000, interval: 250 }).toBeUndefined();
    expect(await stateOf(c)).toBe("failed");
  });

  it("a watch that breaks mid-wake is re-established and the client gets through", async () => {
    const c = await tenantWithCompute();
    await suspended(c);
    t.cluster.setReadyDelay(3000);
    try {
      const watchesBefore = t.api.watchCount;
      // A new connection to a suspended compute starts parked: its first real query is what wakes it.
      const pending = connect(c).then(async (conn) => ({ conn, rows: (await conn.query("SELECT 1 AS ok"))[0] }));
      // the driver is watching the pod (scaled up, not Ready yet): cut the stream
      await expect.poll(() => t.api.watchCount > watchesBefore, { timeout: 20_000, interval: 20 }).toBe(true);
      expect(t.api.breakWatches()).toBeGreaterThan(0);
      const { conn, rows } = await pending;
      expect(rows).toEqual([{ ok: 1 }]);
      await conn.end();
      expect(t.api.watchCount - watchesBefore).toBeGreaterThanOrEqual(2);
    } finally {
      t.cluster.setReadyDelay(300);
    }
  });

  it("deleting a compute removes its StatefulSet, Service, Secret and volume", async () => {
    const c = await tenantWithCompute();
    await deleteCompute({ actor: { caller: c.caller }, computeId: c.computeId, reason: "test" });
    expect(await db.compute.findUnique({ where: { id: c.computeId } })).toBeNull();
    expect(t.api.get("StatefulSet", c.namespace, c.statefulSet)).toBeUndefined();
    expect(t.api.get("Service", c.namespace, c.statefulSet)).toBeUndefined();
    expect(t.api.get("Secret", c.namespace, `${c.statefulSet}-admin`)).toBeUndefined();
    expect(t.api.get("PersistentVolumeClaim", c.namespace, `data-${c.statefulSet}-0`)).toBeUndefined();
    await expect.poll(() => t.cluster.volumeExists(c.namespace, `data-${c.statefulSet}-0`), { timeout: 30_000 }).toBe(false);
  });

  it("behind a load balancer that sends the PROXY protocol, the wake is recorded with the client's own address", async () => {
    const c = await tenantWithCompute();
    await suspended(c);
    process.env.PROXY_PROTOCOL_TRUSTED = "127.0.0.1";
    resetConfig();
    const behindBalancer = await startProxy({ port: 0, metricsPort: null, host: "127.0.0.1" });
    delete process.env.PROXY_PROTOCOL_TRUSTED;
    resetConfig();
    try {
      // what a load balancer does: its own connection, the client's address in the header, then the bytes
      const stream = net.connect(behindBalancer.port, "127.0.0.1");
      stream.write("PROXY TCP4 203.0.113.7 10.0.0.5 51234 3306\r\n");
      const conn = await mysql.createConnection({ stream, user: `${c.slug}.app`, password: c.password, database: "main" });
      expect((await conn.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
      await conn.end();
      const wake = await db.operation.findFirst({ where: { computeId: c.computeId, kind: "resume_compute" }, orderBy: { createdAt: "desc" } });
      expect(wake?.reason).toContain("app@203.0.113.7");

      // from a trusted peer the header is required: a client speaking MySQL straight away is not served
      await expect(mysql.createConnection({ host: "127.0.0.1", port: behindBalancer.port, user: `${c.slug}.app`, password: c.password, connectTimeout: 2000 })).rejects.toThrow();
    } finally {
      await behindBalancer.stop(0);
    }
  });
});
