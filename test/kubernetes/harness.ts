import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FakeKubernetes } from "./fake-api-server";
import { FakeCluster } from "./fake-cluster";
import { installServiceDns } from "./service-dns";

// One fake cluster for a test file: the API server, its controllers and kubelet, cluster DNS for this
// process, and a kubeconfig that points KUBECONFIG at it (what an operator's cluster would give).

export interface TestCluster {
  api: FakeKubernetes;
  cluster: FakeCluster;
  url: string;
  kubeconfig: string;
  root: string;
  close(): Promise<void>;
}

export async function startTestCluster(options: { readyDelayMs?: number } = {}): Promise<TestCluster> {
  const api = new FakeKubernetes();
  const url = await api.listen();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "msl-fake-cluster-"));
  const cluster = new FakeCluster(api, { root, readyDelayMs: options.readyDelayMs });
  const uninstallDns = installServiceDns(api);
  const kubeconfig = path.join(root, "kubeconfig.yaml");
  fs.writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      // Plain HTTP on loopback: the client accepts it only with TLS verification off.
      `- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
      "users:",
      "- name: control-plane\n  user:\n    token: fake-token",
      "contexts:",
      "- name: fake\n  context:\n    cluster: fake\n    user: control-plane",
      "current-context: fake",
      "",
    ].join("\n"),
  );
  return {
    api,
    cluster,
    url,
    kubeconfig,
    root,
    async close() {
      await cluster.close();
      await api.close();
      uninstallDns();
      // KEEP_FAKE_CLUSTER=1 keeps the pods' files (error logs) for a look after a failure.
      if (!process.env.KEEP_FAKE_CLUSTER) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
