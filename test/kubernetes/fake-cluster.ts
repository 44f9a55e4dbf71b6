import { createHash } from "node:crypto";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { userInfo } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { readProcStat, signal, spawnDetached, waitForExit } from "@/server/compute/drivers/local/process";
import { copyTemplate, ensureTemplate } from "@/server/compute/drivers/local/template";
import type { FakeKubernetes, KubeObject, StoreEvent } from "./fake-api-server";

// The rest of a cluster behind the fake API server: the StatefulSet controller (a pod and its claims per
// replica, rolled when the template changes, removed at 0), a volume provisioner (a directory per claim,
// removed with it), and a kubelet that runs each pod's container as a real local mariadbd - the container's
// arguments, its data on the claim's directory, the Secret volume's init file - bound to the pod's Service
// address on port 3306, and reports it Ready once it accepts connections (after `readyDelayMs`). Tests tell
// the kubelet to fail a pod: its server is killed, and it is restarted in place (restartCount + 1) unless
// the failure is permanent (CrashLoopBackOff).

export interface FakeClusterOptions {
  /** Where volumes and pod files live. */
  root: string;
  readyDelayMs?: number;
  restartDelayMs?: number;
  mariadbdPath?: string;
  installDbPath?: string;
}

interface RunningServer {
  pid: number;
  startTime: number;
  exited: () => string | null;
}

type Container = {
  name: string;
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
};

type PodSpec = {
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] }; persistentVolumeClaim?: { claimName: string } }[];
};

const key = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;
const ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", TZ: "UTC", LANG: "C", NODE_ENV: process.env.NODE_ENV };

export class FakeCluster {
  readonly readyDelayMs: number;
  private readonly restartDelayMs: number;
  private readonly mariadbdPath: string;
  private readonly installDbPath: string;
  private readonly servers = new Map<string, RunningServer>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly permanentFailures = new Set<string>();
  /** Pods whose server is being started (so an event during the start does not start a second). */
  private readonly starting = new Set<string>();
  private readonly listener = (event: StoreEvent) => this.onEvent(event);
  private closed = false;
  /** Pod starts (scale-ups and restarts), for tests that count them. */
  podStarts = 0;

  constructor(
    private readonly api: FakeKubernetes,
    private readonly options: FakeClusterOptions,
  ) {
    this.readyDelayMs = options.readyDelayMs ?? 200;
    this.restartDelayMs = options.restartDelayMs ?? 200;
    this.mariadbdPath = options.mariadbdPath ?? "/usr/sbin/mariadbd";
    this.installDbPath = options.installDbPath ?? "/usr/bin/mariadb-install-db";
    api.on("event", this.listener);
  }

  /** Ready delay for the next pods (a slow wake, for a watch to break during it). */
  setReadyDelay(ms: number): void {
    (this as { readyDelayMs: number }).readyDelayMs = ms;
  }

  /** Kill the pod's server as a crash would; the kubelet restarts it unless `permanent`. */
  async failPod(namespace: string, name: string, { permanent = false } = {}): Promise<void> {
    const podKey = key(namespace, name);
    if (permanent) this.permanentFailures.add(podKey);
    await this.serial(`pod:${podKey}`, async () => {
      const server = this.servers.get(podKey);
      // Out of the map first: its exit is ours, not one for the exit watcher to report.
      this.servers.delete(podKey);
      if (server) {
        signal(server.pid, "SIGKILL");
        await waitForExit(server.pid, server.startTime, 10_000);
      }
      this.setPodStatus(namespace, name, (pod) => containerTerminated(pod, permanent));
    });
    if (!permanent) this.restartLater(namespace, name);
  }

  /** restartPolicy Always: the container is started again in the same pod, its restartCount one higher. */
  private restartLater(namespace: string, name: string): void {
    void delay(this.restartDelayMs).then(() =>
      this.serial(`pod:${key(namespace, name)}`, async () => {
        const pod = this.api.get("Pod", namespace, name);
        if (!pod || pod.metadata.deletionTimestamp || this.closed) return;
        await this.runPod(pod, restarts(pod) + 1);
      }),
    );
  }

  /** A pod's server pid (null when none runs). */
  serverPid(namespace: string, name: string): number | null {
    return this.servers.get(key(namespace, name))?.pid ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.api.off("event", this.listener);
    await Promise.allSettled([...this.queues.values()]);
    for (const [podKey, server] of this.servers) {
      signal(server.pid, "SIGKILL");
      await waitForExit(server.pid, server.startTime, 10_000);
      this.servers.delete(podKey);
    }
  }

  // ---- reacting to the store ----

  private onEvent(event: StoreEvent): void {
    if (this.closed) return;
    const { object } = event;
    const { namespace, name } = object.metadata;
    if (event.kind === "StatefulSet") {
      void this.serial(`sts:${key(namespace, name)}`, () => this.reconcileStatefulSet(namespace!, name));
    } else if (event.kind === "Pod") {
      const owner = object.metadata.ownerReferences?.find((o) => o.kind === "StatefulSet");
      if (event.type === "DELETED" && owner) void this.serial(`sts:${key(namespace, owner.name)}`, () => this.reconcileStatefulSet(namespace!, owner.name));
      if (event.type === "ADDED") void this.serial(`pod:${key(namespace, name)}`, () => this.runPod(object, 0));
      if (event.type === "MODIFIED" && object.metadata.deletionTimestamp) void this.serial(`pod:${key(namespace, name)}`, () => this.terminatePod(namespace!, name));
      if (event.type === "MODIFIED" && owner && !object.metadata.deletionTimestamp) void this.serial(`sts:${key(namespace, owner.name)}`, () => this.updateStatefulSetStatus(namespace!, owner.name));
    } else if (event.kind === "PersistentVolumeClaim") {
      if (event.type === "ADDED") void this.serial(`pvc:${key(namespace, name)}`, () => this.provision(object));
      if (event.type === "DELETED") void this.serial(`pvc:${key(namespace, name)}`, () => this.reclaim(namespace!, name));
    }
  }

  /** One task at a time per object, in order. */
  private serial(id: string, task: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      if (!this.closed) console.error(`fake cluster: ${id}: ${String(error)}`);
    });
    this.queues.set(id, next);
    return next;
  }

  // ---- the StatefulSet controller ----

  private async reconcileStatefulSet(namespace: string, name: string): Promise<void> {
    const sts = this.api.get("StatefulSet", namespace, name);
    const podName = `${name}-0`;
    const pod = this.api.get("Pod", namespace, podName);
    if (!sts) {
      if (pod && !pod.metadata.deletionTimestamp) this.deletePod(pod);
      return;
    }
    const spec = sts.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec }; volumeClaimTemplates?: KubeObject[]; persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string } };
    const replicas = spec.replicas ?? 1;
    const revision = `${name}-${createHash("sha256").update(JSON.stringify(spec.template)).digest("hex").slice(0, 10)}`;
    if (replicas >= 1) {
      for (const claim of spec.volumeClaimTemplates ?? []) {
        const claimName = `${claim.metadata.name}-${podName}`;
        if (!this.api.get("PersistentVolumeClaim", namespace, claimName)) {
          this.api.create({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: claimName, namespace, labels: claim.metadata.labels },
            spec: claim.spec,
          });
        }
      }
      if (!pod) {
        const podSpec = structuredClone(spec.template.spec);
        podSpec.volumes = [
          ...(podSpec.volumes ?? []),
          ...(spec.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-${podName}` } })),
        ];
        this.api.create({
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: podName,
            namespace,
            labels: { ...spec.template.metadata?.labels, "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": podName },
            ownerReferences: [{ kind: "StatefulSet", name, uid: sts.metadata.uid! }],
          },
          spec: podSpec as unknown as Record<string, unknown>,
          status: { phase: "Pending" },
        });
      } else if (!pod.metadata.deletionTimestamp && pod.metadata.labels?.["controller-revision-hash"] !== revision) {
        this.deletePod(pod); // rolled: the new one is made when this one is gone
      }
    } else if (pod && !pod.metadata.deletionTimestamp) {
      this.deletePod(pod);
    }
    await this.updateStatefulSetStatus(namespace, name);
  }

  private async updateStatefulSetStatus(namespace: string, name: string): Promise<void> {
    const sts = this.api.get("StatefulSet", namespace, name);
    if (!sts) return;
    const pod = this.api.get("Pod", namespace, `${name}-0`);
    const ready = pod && isPodReady(pod) ? 1 : 0;
    const status = { replicas: pod ? 1 : 0, readyReplicas: ready, availableReplicas: ready, observedGeneration: sts.metadata.generation };
    if (JSON.stringify(sts.status) === JSON.stringify(status)) return;
    this.api.put({ ...sts, status });
  }

  private deletePod(pod: KubeObject): void {
    this.api.put({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString() } });
  }

  // ---- the volume provisioner ----

  private volumeDir(namespace: string, claim: string): string {
    return path.join(this.options.root, "volumes", namespace, claim);
  }

  private async provision(claim: KubeObject): Promise<void> {
    await mkdir(this.volumeDir(claim.metadata.namespace!, claim.metadata.name), { recursive: true });
    const current = this.api.get("PersistentVolumeClaim", claim.metadata.namespace, claim.metadata.name);
    if (current) this.api.put({ ...current, status: { phase: "Bound", capacity: (current.spec as { resources?: { requests?: unknown } })?.resources?.requests } });
  }

  /** Reclaim policy Delete: the volume goes with its claim, once no server uses it any more. */
  private async reclaim(namespace: string, claim: string): Promise<void> {
    const dir = this.volumeDir(namespace, claim);
    for (let i = 0; i < 600 && [...this.servers.keys()].some((k) => k.startsWith(`${namespace}/`) && claim.endsWith(k.split("/")[1]!)); i++) await delay(50);
    await rm(dir, { recursive: true, force: true });
  }

  /** Whether a claim's volume still holds data (a test's view of "the volume was removed"). */
  async volumeExists(namespace: string, claim: string): Promise<boolean> {
    return stat(this.volumeDir(namespace, claim)).then(
      () => true,
      () => false,
    );
  }

  // ---- the kubelet ----

  private setPodStatus(namespace: string, name: string, change: (pod: KubeObject) => Record<string, unknown>): void {
    const pod = this.api.get("Pod", namespace, name);
    if (!pod) return;
    this.api.put({ ...pod, status: change(pod) });
  }

  private async runPod(pod: KubeObject, restartCount: number): Promise<void> {
    const { namespace, name } = pod.metadata;
    const podKey = key(namespace, name);
    if (this.closed || pod.metadata.deletionTimestamp || this.servers.has(podKey) || this.starting.has(podKey)) return;
    if (this.permanentFailures.has(podKey)) {
      this.setPodStatus(namespace!, name, (p) => containerTerminated(p, true));
      return;
    }
    this.starting.add(podKey);
    try {
      this.podStarts++;
      const spec = pod.spec as unknown as PodSpec;
      const container = spec.containers[0]!;
      this.setPodStatus(namespace!, name, () => ({
        phase: "Pending",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [{ name: container.name, ready: false, restartCount, image: "fake", imageID: "", state: { waiting: { reason: "ContainerCreating" } } }],
      }));
      const address = this.serviceAddress(pod);
      if (!address) throw new Error(`no Service selects pod ${podKey}`);
      // Short: a unix socket's path must fit in 107 bytes.
      const podDir = path.join(this.options.root, "pods", createHash("sha256").update(podKey).digest("hex").slice(0, 12));
      await mkdir(podDir, { recursive: true });
      // Volumes: the claim's directory, the Secret's items as files.
      const mounts = new Map<string, string>();
      for (const volume of spec.volumes ?? []) {
        const mount = container.volumeMounts?.find((m) => m.name === volume.name);
        if (!mount) continue;
        if (volume.persistentVolumeClaim) {
          mounts.set(mount.mountPath, this.volumeDir(namespace!, volume.persistentVolumeClaim.claimName));
        } else if (volume.secret) {
          const secret = this.api.get("Secret", namespace, volume.secret.secretName);
          if (!secret) throw new Error(`secret ${volume.secret.secretName} not found`);
          const dir = path.join(podDir, "secret-" + volume.name);
          await mkdir(dir, { recursive: true });
          for (const item of volume.secret.items ?? Object.keys(secret.data ?? {}).map((k) => ({ key: k, path: k }))) {
            await writeFile(path.join(dir, item.path), Buffer.from(secret.data?.[item.key] ?? "", "base64"), { mode: 0o600 });
          }
          mounts.set(mount.mountPath, dir);
        }
      }
      const dataDir = [...mounts.entries()].find(([m]) => m === "/var/lib/mysql")?.[1];
      if (!dataDir) throw new Error(`pod ${podKey} mounts no volume at /var/lib/mysql`);
      const data = path.join(dataDir, "data");
      // The image's entrypoint initialises an empty volume; here, a copy of the local driver's template.
      if (!(await stat(path.join(data, "mysql")).catch(() => null))) {
        const template = await ensureTemplate({
          dataDir: this.options.root,
          mariadbdPath: this.mariadbdPath,
          installDbPath: this.installDbPath,
          adminUser: userInfo().username,
          account: null,
          env: ENV,
        });
        await rm(data, { recursive: true, force: true });
        await copyTemplate(template, data, null, ENV);
      }
      const translate = (arg: string) => {
        for (const [mountPath, hostDir] of mounts) if (arg.includes(`${mountPath}/`)) return arg.replace(`${mountPath}/`, `${hostDir}/`);
        return arg;
      };
      const args = [
        "--no-defaults",
        `--datadir=${data}`,
        `--socket=${path.join(podDir, "mysqld.sock")}`,
        `--pid-file=${path.join(podDir, "mysqld.pid")}`,
        `--port=3306`,
        `--bind-address=${address}`,
        ...(process.getuid?.() === 0 ? ["--user=root"] : []),
        ...(container.args ?? []).filter((a) => a.startsWith("--")).map(translate),
      ];
      const server = spawnDetached(this.mariadbdPath, args, path.join(podDir, "error.log"), ENV);
      const procStat = await readProcStat(server.pid);
      this.servers.set(podKey, { pid: server.pid, startTime: procStat?.startTime ?? 0, exited: server.exited });
      // A server that exits by itself is a crash: reported, and restarted like the kubelet does.
      server.child.once("exit", () => {
        if (this.closed || this.servers.get(podKey)?.pid !== server.pid) return;
        this.servers.delete(podKey);
        void this.serial(`pod:${podKey}`, async () => this.setPodStatus(namespace!, name, (p) => containerTerminated(p, false)));
        this.restartLater(namespace!, name);
      });
      this.setPodStatus(namespace!, name, (p) => ({
        ...p.status,
        phase: "Running",
        podIP: address,
        containerStatuses: [{ name: container.name, ready: false, restartCount, image: "fake", imageID: "", started: true, state: { running: { startedAt: new Date().toISOString() } } }],
      }));
      // The readiness probe: the server accepts connections.
      const deadline = Date.now() + 60_000;
      while (!(await accepts(address, 3306))) {
        if (server.exited()) return; // the exit watcher reports it
        if (Date.now() > deadline) {
          signal(server.pid, "SIGKILL");
          return;
        }
        await delay(20);
      }
      await delay(this.readyDelayMs);
      const now = this.api.get("Pod", namespace, name);
      if (!now || now.metadata.deletionTimestamp || this.servers.get(podKey)?.pid !== server.pid) return;
      this.setPodStatus(namespace!, name, (p) => ({
        ...p.status,
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString() }],
        containerStatuses: [{ ...(p.status?.containerStatuses as object[])[0], ready: true }],
      }));
    } finally {
      this.starting.delete(podKey);
    }
  }

  private serviceAddress(pod: KubeObject): string | null {
    const labels = pod.metadata.labels ?? {};
    for (const service of this.api.list("Service", pod.metadata.namespace)) {
      const selector = (service.spec?.selector ?? {}) as Record<string, string>;
      if (Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)) return String(service.spec?.clusterIP);
    }
    return null;
  }

  /** A graceful deletion: the server is stopped cleanly (SIGTERM), then the pod is removed. */
  private async terminatePod(namespace: string, name: string): Promise<void> {
    const podKey = key(namespace, name);
    while (this.starting.has(podKey)) await delay(10);
    const server = this.servers.get(podKey);
    if (server) {
      signal(server.pid, "SIGTERM");
      if (!(await waitForExit(server.pid, server.startTime, 30_000))) {
        signal(server.pid, "SIGKILL");
        await waitForExit(server.pid, server.startTime, 10_000);
      }
      this.servers.delete(podKey);
    }
    this.permanentFailures.delete(podKey);
    this.api.remove("Pod", namespace, name);
  }
}

function restarts(pod: KubeObject): number {
  return ((pod.status?.containerStatuses as { restartCount?: number }[] | undefined)?.[0]?.restartCount ?? 0);
}

function isPodReady(pod: KubeObject): boolean {
  return ((pod.status?.conditions as { type: string; status: string }[] | undefined) ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function containerTerminated(pod: KubeObject, permanent: boolean): Record<string, unknown> {
  const previous = (pod.status?.containerStatuses as Record<string, unknown>[] | undefined)?.[0] ?? { name: "mariadb", restartCount: 0, image: "fake", imageID: "" };
  const terminated = { exitCode: 137, reason: "Error", finishedAt: new Date().toISOString() };
  return {
    ...pod.status,
    phase: "Running",
    conditions: [{ type: "Ready", status: "False" }],
    containerStatuses: [
      {
        ...previous,
        ready: false,
        started: false,
        lastState: { terminated },
        state: permanent ? { waiting: { reason: "CrashLoopBackOff", message: "back-off restarting failed container" } } : { terminated },
      },
    ],
  };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
