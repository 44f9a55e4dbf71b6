import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig, loadAllYaml } from "@kubernetes/client-node";
import { nativePasswordHash } from "@/server/auth/native-password";
import { kubeApis } from "@/server/compute/drivers/kubernetes/kube-client";
import { KubernetesDriver } from "@/server/compute/drivers/kubernetes/kubernetes-driver";
import { startTestCluster, type TestCluster } from "./harness";
import { schemaError } from "./validate-object";

// Every object the driver sends, and every manifest in deploy/, against the Kubernetes OpenAPI schemas
// (the kubernetes-models package).

const DEPLOY = path.join(import.meta.dirname, "..", "..", "deploy", "kubernetes");

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({ readyDelayMs: 20 });
});
afterAll(async () => {
  await t?.close();
});

describe("Kubernetes schemas", () => {
  it("every object the driver creates or patches validates, on every plan and with the storage layer configured", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(t.kubeconfig);
    const makeDriver = () => new KubernetesDriver({
      apis: kubeApis(kc),
      image: "docker.io/library/mariadb:10.11",
      platformNamespace: "mariadb-serverless",
      storageClass: "fast-ssd",
      pageserverUrl: "postgresql://pageserver.storage:6400",
      safekeeperUrls: "safekeeper-0.storage:5454,safekeeper-1.storage:5454",
      namespacePrefix: "msl-org-",
      clusterDomain: "cluster.local",
      startTimeoutMs: 60_000,
      wakeTimeoutMs: 30_000,
    });
    const driver = makeDriver();
    const specs = [];
    for (const [i, plan] of ["free", "pro", "enterprise"].entries()) {
      const computeId = `cschema${i}${Date.now().toString(36)}`;
      const spec = {
        computeId,
        projectSlug: `schema-${i}`,
        database: "main",
        size: [0.25, 2, 8][i]!,
        roles: [{ name: "app", passwordHash: nativePasswordHash("x") }],
        organizationId: `orgschema${i}`,
        projectId: `projschema${i}`,
        plan,
        storageLimitBytes: 1024 ** 3,
      };
      specs.push(spec);
      const started = await driver.start(spec, null);
      await driver.countUserSessions(computeId, started.driverState);
      await driver.storageBytes(computeId, started.driverState);
      await driver.pause(computeId, started.driverState);
      await driver.stop(computeId, started.driverState);
      await driver.inspect(computeId, null);
      if (i === 0) {
        await driver.destroy(computeId, null);
        await driver.destroy(computeId, null); // nothing left: found by neither its StatefulSet nor its Secret
      }
    }
    // Another replica adopts what exists (409 on every create), and the organization changed plans.
    const adopted = await makeDriver().start({ ...specs[1]!, plan: "enterprise" }, null);
    await makeDriver().stop(specs[1]!.computeId, adopted.driverState);
    // the quota follows the plan (enterprise has no project cap: the driver's bound of 1000 computes)
    expect(t.api.get("ResourceQuota", "msl-org-orgschema1", "computes")?.spec).toMatchObject({ hard: { "count/statefulsets.apps": "1000" } });
    const sent = t.api.requests.filter((r) => r.method === "POST" || r.method === "PATCH");
    // accepted, or (adoption) a create of what exists
    expect(sent.filter((r) => !(r.status < 300 || (r.method === "POST" && r.status === 409)))).toEqual([]);
    expect(sent.some((r) => r.status === 409)).toBe(true);
    const kinds = new Set<string>();
    for (const request of sent.filter((r) => r.method === "POST")) {
      const object = request.body as { apiVersion: string; kind: string };
      kinds.add(object.kind);
      expect(schemaError(object), `${request.path}`).toBeNull();
    }
    expect([...kinds].sort()).toEqual(["LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota", "Secret", "Service", "StatefulSet"]);
    // what the patches made of them
    for (const kind of ["StatefulSet", "ResourceQuota", "LimitRange"]) {
      for (const object of t.api.list(kind)) expect(schemaError(object), `${kind} ${object.metadata.name}`).toBeNull();
    }
    const sts = t.api.list("StatefulSet").find((s) => s.metadata.namespace === "msl-org-orgschema2")!;
    const env = (sts.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: "PAGESERVER_URL", value: "postgresql://pageserver.storage:6400" },
        { name: "SAFEKEEPER_URLS", value: "safekeeper-0.storage:5454,safekeeper-1.storage:5454" },
        { name: "TENANT_ID", value: "orgschema2" },
        { name: "TIMELINE_ID", value: "projschema2" },
      ]),
    );
  });

  it("the ClusterRole in deploy/ allows exactly the kinds and verbs the driver used", () => {
    const verbOf = (method: string, named: boolean, watch: boolean) =>
      method === "GET" ? (named ? "get" : watch ? "watch" : "list") : ({ POST: "create", PATCH: "patch", PUT: "update", DELETE: "delete" } as Record<string, string>)[method]!;
    const used = new Set<string>();
    for (const r of t.api.requests) {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([^/]+)(?:\/([^/]+))?$/.exec(r.path);
      if (!m) continue;
      const [, group = "", resource, name] = m;
      used.add(`${group}/${resource}/${verbOf(r.method, Boolean(name), r.watch)}`);
    }
    const docs = loadAllYaml(fs.readFileSync(path.join(DEPLOY, "rbac.yaml"), "utf8")) as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }[];
    const role = docs.find((d) => d.kind === "ClusterRole")!;
    const allowed = new Set<string>();
    for (const rule of role.rules!) for (const g of rule.apiGroups) for (const res of rule.resources) for (const v of rule.verbs) allowed.add(`${g}/${res}/${v}`);
    expect([...used].sort()).toEqual([...allowed].sort());
  });

  it("a schema the driver could get wrong is caught (the check can fail)", () => {
    expect(schemaError({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x" }, spec: { replicas: "one" } } as never)).toMatch(/replicas/);
  });

  it("every manifest in deploy/kubernetes validates, and kustomization.yaml lists exactly the files there", () => {
    const files = fs.readdirSync(DEPLOY).filter((f) => f.endsWith(".yaml"));
    const kustomization = loadAllYaml(fs.readFileSync(path.join(DEPLOY, "kustomization.yaml"), "utf8"))[0] as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== "kustomization.yaml").sort());
    const kinds: string[] = [];
    for (const file of kustomization.resources) {
      for (const doc of loadAllYaml(fs.readFileSync(path.join(DEPLOY, file), "utf8")) as { apiVersion: string; kind: string }[]) {
        kinds.push(doc.kind);
        expect(schemaError(doc), `${file}: ${doc.kind}`).toBeNull();
      }
    }
    expect(new Set(kinds)).toEqual(
      new Set(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret", "Job", "Deployment", "Service", "PodDisruptionBudget"]),
    );
  });
});
