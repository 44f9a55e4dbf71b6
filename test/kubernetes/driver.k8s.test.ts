import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mysql from "mysql2/promise";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { nativePasswordHash } from "@/server/auth/native-password";
import { kubeApis } from "@/server/compute/drivers/kubernetes/kube-client";
import { KubernetesDriver } from "@/server/compute/drivers/kubernetes/kubernetes-driver";
import type { ComputeSpec, DriverState } from "@/server/compute/drivers/types";
import { SESSION_TRACKING_ARGS } from "@/server/compute/drivers/local/mariadb-config";
import { startTestCluster, type TestCluster } from "./harness";

// The driver on its own against the fake API server and kubelet: what it makes, and that a server it
// scaled up really serves the project's roles at the Service's name.

let t: TestCluster;
let driver: KubernetesDriver;

function newDriver(): KubernetesDriver {
  const kc = new KubeConfig();
  kc.loadFromFile(t.kubeconfig);
  return new KubernetesDriver({
    apis: kubeApis(kc),
    image: "docker.io/library/mariadb:10.11",
    platformNamespace: "mariadb-serverless",
    namespacePrefix: "msl-org-",
    clusterDomain: "cluster.local",
    startTimeoutMs: 60_000,
    wakeTimeoutMs: 30_000,
    stopTimeoutMs: 30_000,
  });
}

let n = 0;
function spec(overrides: Partial<ComputeSpec> = {}): ComputeSpec {
  n++;
  return {
    computeId: `cdriver${Date.now().toString(36)}${n}`,
    projectSlug: `driver-test-${n}`,
    database: "main",
    size: 0.25,
    roles: [{ name: "app", passwordHash: nativePasswordHash("app-password") }],
    storageLimitBytes: 1024 * 1024 * 1024,
    organizationId: "orgdriver1",
    projectId: `projdriver${n}`,
    plan: "free",
    ...overrides,
  };
}

const asApp = (host: string) => mysql.createConnection({ host, port: 3306, user: "app", password: "app-password", database: "main" });

beforeAll(async () => {
  t = await startTestCluster({ readyDelayMs: 50 });
  driver = newDriver();
});

afterAll(async () => {
  await t?.close();
});

describe("kubernetes driver", () => {
  it("makes the organization's namespace and the compute's objects, and the server serves its roles at the Service name", async () => {
    const s = spec();
    const started = await driver.start(s, null);
    const ns = "msl-org-orgdriver1";
    expect(started.endpoint).toEqual({ host: `compute-${s.computeId}.${ns}.svc.cluster.local`, port: 3306 });
    expect(t.api.get("Namespace", undefined, ns)).toBeTruthy();
    expect(t.api.get("ResourceQuota", ns, "computes")?.spec).toMatchObject({ hard: { "count/statefulsets.apps": "10", "requests.storage": String(10 * 1024 ** 3) } });
    expect(t.api.get("LimitRange", ns, "computes")).toBeTruthy();
    expect(t.api.list("NetworkPolicy", ns).map((p) => p.metadata.name).sort()).toEqual(["computes-from-platform", "computes-to-dns-and-storage", "default-deny"]);
    const sts = t.api.get("StatefulSet", ns, `compute-${s.computeId}`)!;
    expect(sts.spec?.replicas).toBe(1);
    expect(sts.metadata.labels).toMatchObject({ "app.kubernetes.io/part-of": "mariadb-serverless", "app.kubernetes.io/component": "compute" });
    const container = (sts.spec as { template: { spec: { containers: { image: string; args: string[]; resources: unknown }[] } } }).template.spec.containers[0]!;
    expect(container.image).toBe("docker.io/library/mariadb:10.11");
    expect(container.args).toEqual(expect.arrayContaining(["--character-set-server=utf8mb4", "--default-time-zone=+00:00", "--innodb-flush-log-at-trx-commit=1", "--max-allowed-packet=64M", ...SESSION_TRACKING_ARGS]));
    expect(container.resources).toEqual({ requests: { cpu: "250m", memory: String(1024 ** 3) }, limits: { cpu: "250m", memory: String(1024 ** 3) } });
    expect(t.api.get("Secret", ns, `compute-${s.computeId}-admin`)?.data?.password).toBeTruthy();
    expect(t.api.get("PersistentVolumeClaim", ns, `data-compute-${s.computeId}-0`)).toBeTruthy();

    const conn = await asApp(started.endpoint.host);
    const [rows] = await conn.query("SELECT @@character_set_server AS cs, @@time_zone AS tz, @@innodb_flush_log_at_trx_commit AS flush, DATABASE() AS db");
    expect(rows).toEqual([{ cs: "utf8mb4", tz: "+00:00", flush: 1, db: "main" }]);
    // no account without a password is reachable over the network
    await expect(mysql.createConnection({ host: started.endpoint.host, port: 3306, user: "root" })).rejects.toThrow(/Access denied/);
    expect(await driver.countUserSessions(s.computeId, started.driverState)).toBe(1);
    // A thread a live proxy reports holding without a client (its pool) is not counted.
    expect(await driver.countUserSessions(s.computeId, started.driverState, [{ id: conn.threadId, reportedMsAgo: 0 }])).toBe(0);
    await conn.end();
    expect(await driver.inspect(s.computeId, started.driverState)).toMatchObject({ status: "running" });
    expect(await driver.storageBytes(s.computeId, started.driverState)).toBeGreaterThan(0);
    await driver.destroy(s.computeId, started.driverState);
  });

  it("adopts what exists on a second start, keeps the data across scale to zero, and removes everything on destroy", async () => {
    const s = spec();
    const ns = "msl-org-orgdriver1";
    const first = await driver.start(s, null);
    const pod = `compute-${s.computeId}-0`;
    const pid = t.cluster.serverPid(ns, pod);
    // A second start (another replica, a retry after a crash) adopts the running pod.
    const again = await newDriver().start(s, first.driverState);
    expect(again.endpoint).toEqual(first.endpoint);
    expect(t.cluster.serverPid(ns, pod)).toBe(pid);

    const conn = await asApp(first.endpoint.host);
    await conn.query("CREATE TABLE kept (v VARCHAR(20))");
    await conn.query("INSERT INTO kept VALUES ('survives')");
    await conn.end();

    const measured = await driver.storageBytes(s.computeId, first.driverState);
    expect(measured).toBeGreaterThan(0);
    await driver.stop(s.computeId, first.driverState);
    // scaled to 0, the storage is still reported (for the bill): the last measured figure
    expect(await driver.storageBytes(s.computeId, first.driverState)).toBe(measured);
    expect(t.api.get("StatefulSet", ns, `compute-${s.computeId}`)?.spec?.replicas).toBe(0);
    const scaleDown = t.api.requests.filter((r) => r.method === "PATCH" && r.path.endsWith(`/statefulsets/compute-${s.computeId}`)).at(-1);
    expect(scaleDown).toMatchObject({ contentType: "application/json-patch+json", status: 200, body: [{ op: "replace", path: "/spec/replicas", value: 0 }] });
    expect(t.api.get("Pod", ns, pod)).toBeUndefined();
    expect(await driver.inspect(s.computeId, first.driverState)).toMatchObject({ status: "stopped" });

    const woken = await driver.start(s, first.driverState);
    const back = await asApp(woken.endpoint.host);
    expect((await back.query("SELECT v FROM kept"))[0]).toEqual([{ v: "survives" }]);
    await back.end();

    await driver.destroy(s.computeId, null); // found again by its label
    for (const kind of ["StatefulSet", "Service"]) expect(t.api.get(kind, ns, `compute-${s.computeId}`)).toBeUndefined();
    expect(t.api.get("Secret", ns, `compute-${s.computeId}-admin`)).toBeUndefined();
    expect(t.api.get("PersistentVolumeClaim", ns, `data-compute-${s.computeId}-0`)).toBeUndefined();
    await expect.poll(() => t.cluster.volumeExists(ns, `data-compute-${s.computeId}-0`), { timeout: 30_000 }).toBe(false);
    expect(await driver.inspect(s.computeId, null)).toMatchObject({ status: "missing" });
  });

  it("patches a changed spec (a new size) and the pod is rolled to it", async () => {
    const s = spec();
    const ns = "msl-org-orgdriver1";
    const first = await driver.start(s, null);
    const bigger = await driver.start({ ...s, size: 0.5 }, first.driverState);
    const sts = t.api.get("StatefulSet", ns, `compute-${s.computeId}`)!;
    const container = (sts.spec as { template: { spec: { containers: { resources: { limits: { cpu: string } } }[] } } }).template.spec.containers[0]!;
    expect(container.resources.limits.cpu).toBe("500m");
    const patches = t.api.requests.filter((r) => r.method === "PATCH" && r.path.endsWith(`/statefulsets/compute-${s.computeId}`));
    expect(patches.map((p) => p.contentType)).toContain("application/merge-patch+json");
    const conn = await asApp(bigger.endpoint.host);
    const [rows] = await conn.query("SELECT @@innodb_buffer_pool_size AS pool");
    expect(rows).toEqual([{ pool: 64 * 1024 * 1024 }]);
    await conn.end();
    await driver.destroy(s.computeId, bigger.driverState);
  });

  it("keeps a paused compute's pod (the warm tier) and reports a crashed one as stopped", async () => {
    const s = spec();
    const ns = "msl-org-orgdriver1";
    const started = await driver.start(s, null);
    await driver.pause(s.computeId, started.driverState);
    expect(await driver.inspect(s.computeId, started.driverState)).toMatchObject({ status: "paused" });
    expect(t.api.get("Pod", ns, `compute-${s.computeId}-0`)).toBeTruthy();
    await driver.unpause(s.computeId, started.driverState);
    expect(await driver.inspect(s.computeId, started.driverState)).toMatchObject({ status: "running" });

    await t.cluster.failPod(ns, `compute-${s.computeId}-0`);
    expect(await driver.inspect(s.computeId, started.driverState)).toMatchObject({ status: "stopped" });
    // the kubelet restarts it in place; a start adopts it and records its restarts
    const restarted = await driver.start(s, started.driverState);
    expect(restarted.driverState.restarts).toBe(1);
    expect(await driver.inspect(s.computeId, restarted.driverState)).toMatchObject({ status: "running" });
    await driver.destroy(s.computeId, restarted.driverState);
  });

  it("fails a start whose pod cannot run, with a reason a person can act on", async () => {
    const s = spec();
    const ns = "msl-org-orgdriver1";
    await t.cluster.failPod(ns, `compute-${s.computeId}-0`, { permanent: true });
    await expect(driver.start(s, null)).rejects.toThrow(/the MariaDB server stopped while starting/);
    // The row will say failed: the driver leaves no pod asking to run (scaled back to 0, as a stop would).
    expect(t.api.get("StatefulSet", ns, `compute-${s.computeId}`)?.spec?.replicas).toBe(0);
    await driver.destroy(s.computeId, null);
  });
});

describe("fake Kubernetes API server", () => {
  it("answers like a real one: 404, 409 on create of an existing object and on a stale resourceVersion, 422 with a Status", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(t.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "fake-api-test" } } });
    await expect(core.readNamespacedSecret({ namespace: "fake-api-test", name: "nope" })).rejects.toMatchObject({ code: 404 });
    const created = await core.createNamespacedSecret({ namespace: "fake-api-test", body: { metadata: { name: "s" }, stringData: { a: "b" } } });
    expect(created.data).toEqual({ a: Buffer.from("b").toString("base64") });
    const again = await core.createNamespacedSecret({ namespace: "fake-api-test", body: { metadata: { name: "s" } } }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 409 });
    expect(JSON.parse(String((again as { body: string }).body))).toMatchObject({ kind: "Status", reason: "AlreadyExists" });
    const stale = await core
      .replaceNamespacedSecret({ namespace: "fake-api-test", name: "s", body: { metadata: { name: "s", resourceVersion: "1" }, data: {} } })
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 409 });
    expect(JSON.parse(String((stale as { body: string }).body))).toMatchObject({ reason: "Conflict" });
    const invalid = await core
      .createNamespacedService({ namespace: "fake-api-test", body: { metadata: { name: "svc" }, spec: { ports: [{ port: "x" as unknown as number }] } } })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 422 });
    expect(JSON.parse(String((invalid as { body: string }).body))).toMatchObject({ kind: "Status", status: "Failure", reason: "Invalid", code: 422 });
  });
});

export type { DriverState };
