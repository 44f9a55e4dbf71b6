import { randomBytes } from "node:crypto";
import type { Connection, RowDataPacket } from "mysql2/promise";
import type { V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { nativePasswordHash } from "../../../auth/native-password";
import { logger } from "../../../logger";
import type { ComputeDriver, ComputeSpec, DriverState, Endpoint, HeldThread, InspectResult, RoleSpec, StartResult } from "../types";
import { assertRoles, closeAdmin, countBesides, ensureDatabase, killSessions, syncRoleAccounts, userSessionIds, userSessions } from "../local/admin-sql";
import { apiErrorMessage, createOrAdopt, deleteIfPresent, isConflict, mergePatch, readOrNull, type KubeApis } from "./kube-client";
import { adminSecretManifest, serviceManifest, statefulSetManifest, type ManifestSettings } from "./manifests";
import {
  ADMIN_USER,
  COMPUTE_ID_LABEL,
  computeLabels,
  computeNames,
  MARIADB_PORT,
  namespaceFor,
  PAUSED_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  USED_BYTES_ANNOTATION,
  type ComputeNames,
} from "./names";
import { connectNetworkAdmin } from "./network-admin";
import { ensureOrganizationNamespace } from "./organization-namespace";
import { isReady, podFailure, restartCount } from "./pod-status";
import { waitForPod } from "./wait-for-pod";

// COMPUTE_DRIVER=kubernetes: a compute is a StatefulSet of 0 or 1 replicas with a PersistentVolumeClaim for
// its data (kept at 0 replicas), a Service the proxy reaches it by (its DNS name is the endpoint), and a
// Secret with the control plane's admin credential; an organization's computes share a namespace with a
// ResourceQuota and a LimitRange from its plan and default-deny NetworkPolicies.
//
// The warm tier ("paused") on a cluster: the pod is kept as it is, with its CPU and memory requests, and the
// StatefulSet is marked with PAUSED_ANNOTATION. A wake is then only a patch and a look at the pod (no
// scheduling, no volume attach, no InnoDB start); the cost is the compute's full requests held on a node for
// as long as it stays paused, which the idle policy bounds (coldAfterSeconds, at most an hour on the free
// plan) before it is scaled to 0. Freezing the process (the local driver's SIGSTOP) has no equivalent in
// the Kubernetes API, and resizing the pod's CPU in place needs a feature gate clusters do not all have.

export interface KubernetesDriverOptions extends ManifestSettings {
  apis: KubeApis;
  namespacePrefix: string;
  clusterDomain: string;
  /** A first start (image pull, volume, init) may take this long. */
  startTimeoutMs: number;
  /** A wake (scale 0 -> 1 of a compute that ran before) may take this long: the proxy's wake timeout. */
  wakeTimeoutMs: number;
  /** A scale to 0 waits this long for the pod to go. */
  stopTimeoutMs?: number;
}

interface KubeState {
  namespace: string;
  name: string;
  host: string;
  port: number;
  /** The pod's container restarts when it was last started or adopted: more later means it crashed. */
  restarts: number;
}

function parseState(state: DriverState | null): KubeState | null {
  if (!state || typeof state.namespace !== "string" || typeof state.name !== "string") return null;
  return {
    namespace: state.namespace,
    name: state.name,
    host: String(state.host ?? ""),
    port: Number(state.port ?? MARIADB_PORT),
    restarts: Number(state.restarts ?? 0),
  };
}

/** An RFC 6901 pointer segment (a "/" in an annotation's name is "~1"). */
function jsonPointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function toDriverState(names: ComputeNames, restarts: number): DriverState {
  return { namespace: names.namespace, name: names.name, host: names.host, port: MARIADB_PORT, restarts };
}

export class KubernetesDriver implements ComputeDriver {
  readonly name = "kubernetes";
  private readonly apis: KubeApis;
  /** Namespaces set up by this process, with the plan their quota was made for. */
  private readonly namespaces = new Map<string, string>();
  /** Admin passwords read from the computes' Secrets. */
  private readonly passwords = new Map<string, string>();

  constructor(private readonly options: KubernetesDriverOptions) {
    this.apis = options.apis;
  }

  async start(spec: ComputeSpec, previous: DriverState | null): Promise<StartResult> {
    assertRoles(spec.roles);
    if (!spec.organizationId) throw new Error(`compute ${spec.computeId}: the kubernetes driver needs the organization`);
    const namespace = namespaceFor(this.options.namespacePrefix, spec.organizationId);
    const names = computeNames(namespace, spec.computeId, this.options.clusterDomain);
    const labels = computeLabels(spec.computeId, spec.organizationId);
    await this.ensureNamespace(namespace, spec.organizationId, spec.plan);
    const password = await this.ensureSecret(names, labels);
    await createOrAdopt(
      () => this.apis.core.createNamespacedService({ namespace, body: serviceManifest(names, labels, spec.computeId) }),
      () => this.apis.core.readNamespacedService({ namespace, name: names.name }),
    );
    await this.ensureStatefulSet(spec, names);
    // A compute that ran before wakes within the proxy's wake timeout; a new one may pull its image first.
    const timeoutMs = parseState(previous) ? this.options.wakeTimeoutMs : this.options.startTimeoutMs;
    try {
      const pod = await this.waitUntilReady(names, timeoutMs);
      const endpoint: Endpoint = { host: names.host, port: MARIADB_PORT };
      const conn = await connectNetworkAdmin(endpoint, password, timeoutMs);
      try {
        await ensureDatabase(conn, spec.database);
        await syncRoleAccounts(conn, spec.roles);
      } finally {
        await closeAdmin(conn);
      }
      return { endpoint, driverState: toDriverState(names, pod ? restartCount(pod) : 0) };
    } catch (error) {
      // The row will say failed: leave no pod behind (as the local driver kills a server that did not come up).
      await this.scaleToZero(names).catch(() => undefined);
      throw error;
    }
  }

  /** Best effort after a failed start: replicas to 0, without waiting for the pod to go. */
  private async scaleToZero(names: ComputeNames): Promise<void> {
    await this.apis.apps.patchNamespacedStatefulSet({
      namespace: names.namespace, name: names.name, body: [{ op: "replace", path: "/spec/replicas", value: 0 }],
    });
  }

  async stop(computeId: string, state: DriverState | null): Promise<void> {
    const names = await this.locate(computeId, state);
    if (!names) return;
    const sts = await readOrNull(() => this.apis.apps.readNamespacedStatefulSet({ namespace: names.namespace, name: names.name }));
    if (!sts) return;
    // A JSON patch: replicas to 0, and the warm tier's mark removed if it is there.
    const operations: object[] = [];
    if (sts.spec?.replicas !== 0) operations.push({ op: "replace", path: "/spec/replicas", value: 0 });
    if (sts.metadata?.annotations?.[PAUSED_ANNOTATION]) operations.push({ op: "remove", path: `/metadata/annotations/${jsonPointer(PAUSED_ANNOTATION)}` });
    if (operations.length > 0) {
      await this.apis.apps.patchNamespacedStatefulSet({ namespace: names.namespace, name: names.name, body: operations });
    }
    // Stopped means the server is gone (its memory freed, its sessions closed), not only asked to go.
    await waitForPod({
      config: this.apis.config,
      readPod: () => this.apis.core.readNamespacedPod({ namespace: names.namespace, name: names.pod }),
      namespace: names.namespace,
      pod: names.pod,
      timeoutMs: this.options.stopTimeoutMs ?? 60_000,
      check: (pod) => (pod === null ? "done" : "wait"),
      waitingFor: `pod ${names.namespace}/${names.pod} to go`,
    });
  }

  async pause(computeId: string, state: DriverState | null): Promise<void> {
    const names = await this.require(computeId, state);
    const pod = await readOrNull(() => this.apis.core.readNamespacedPod({ namespace: names.namespace, name: names.pod }));
    if (!pod || !isReady(pod)) throw new Error(`compute ${computeId} has no ready pod to keep warm`);
    await this.apis.apps.patchNamespacedStatefulSet(
      { namespace: names.namespace, name: names.name, body: { metadata: { annotations: { [PAUSED_ANNOTATION]: new Date().toISOString() } } } },
      mergePatch,
    );
  }

  async unpause(computeId: string, state: DriverState | null): Promise<void> {
    const names = await this.require(computeId, state);
    await this.apis.apps.patchNamespacedStatefulSet(
      { namespace: names.namespace, name: names.name, body: { metadata: { annotations: { [PAUSED_ANNOTATION]: null } } } },
      mergePatch,
    );
    // The pod was kept; it answers as soon as it is Ready (it should still be).
    await this.waitUntilReady(names, this.options.wakeTimeoutMs);
  }

  async destroy(computeId: string, state: DriverState | null): Promise<void> {
    const names = await this.locate(computeId, state);
    if (!names) return;
    const { namespace } = names;
    // The claim is deleted by the StatefulSet's retention policy too; deleting it here also covers a
    // cluster without that feature and a claim left by an interrupted delete.
    await deleteIfPresent(() => this.apis.apps.deleteNamespacedStatefulSet({ namespace, name: names.name, propagationPolicy: "Foreground" }));
    await deleteIfPresent(() => this.apis.core.deleteNamespacedPersistentVolumeClaim({ namespace, name: names.pvc }));
    await deleteIfPresent(() => this.apis.core.deleteNamespacedService({ namespace, name: names.name }));
    await deleteIfPresent(() => this.apis.core.deleteNamespacedSecret({ namespace, name: names.secret }));
    this.passwords.delete(computeId);
  }

  async inspect(computeId: string, state: DriverState | null): Promise<InspectResult> {
    const prior = parseState(state);
    const names = await this.locate(computeId, state);
    if (!names) return { status: "missing", endpoint: null, driverState: null };
    const sts = await readOrNull(() => this.apis.apps.readNamespacedStatefulSet({ namespace: names.namespace, name: names.name }));
    if (!sts) return { status: "missing", endpoint: null, driverState: null };
    if ((sts.spec?.replicas ?? 0) === 0) return { status: "stopped", endpoint: null, driverState: null };
    const pod = await readOrNull(() => this.apis.core.readNamespacedPod({ namespace: names.namespace, name: names.pod }));
    if (!pod || !isReady(pod)) return { status: "stopped", endpoint: null, driverState: null };
    // The kubelet restarted a crashed server in place: to the state machine that is a crash like any other.
    if (prior && restartCount(pod) > prior.restarts) return { status: "stopped", endpoint: null, driverState: null };
    const status = sts.metadata?.annotations?.[PAUSED_ANNOTATION] ? "paused" : "running";
    // Facts are returned only when the row has none (adopted): the same facts would be written back again.
    return { status, endpoint: { host: names.host, port: MARIADB_PORT }, driverState: prior ? null : toDriverState(names, restartCount(pod)) };
  }

  async syncRoles(computeId: string, state: DriverState | null, database: string, roles: RoleSpec[]): Promise<void> {
    assertRoles(roles);
    await this.withAdmin(computeId, state, async (conn) => {
      await ensureDatabase(conn, database);
      await syncRoleAccounts(conn, roles);
    });
  }

  async countUserSessions(computeId: string, state: DriverState | null, besides: readonly HeldThread[] = []): Promise<number> {
    return this.withAdmin(computeId, state, async (conn) => countBesides(await userSessions(conn, ADMIN_USER, "any"), besides));
  }

  async killUserSessions(computeId: string, state: DriverState | null): Promise<void> {
    await this.withAdmin(computeId, state, async (conn) => killSessions(conn, await userSessionIds(conn, ADMIN_USER, "any")));
  }

  /**
   * What the compute's tables and indexes hold, asked of its running server (the kubelet's volume
   * statistics need node access, nodes/proxy, that the driver is not given). Each figure is kept on the
   * compute's volume claim (USED_BYTES_ANNOTATION), so a compute scaled to 0 reports its last one and is
   * billed for its storage while suspended too. Null before anything was measured.
   */
  async storageBytes(computeId: string, state: DriverState | null): Promise<number | null> {
    const names = await this.locate(computeId, state);
    if (!names) return null;
    const claim = await readOrNull(() => this.apis.core.readNamespacedPersistentVolumeClaim({ namespace: names.namespace, name: names.pvc }));
    if (!claim) return null;
    const kept = claim.metadata?.annotations?.[USED_BYTES_ANNOTATION];
    const pod = await readOrNull(() => this.apis.core.readNamespacedPod({ namespace: names.namespace, name: names.pod }));
    if (!pod || !isReady(pod)) return kept === undefined ? null : Number(kept);
    const bytes = await this.withAdmin(computeId, state, async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH + DATA_FREE), 0) AS bytes FROM information_schema.TABLES",
      );
      return Number(rows[0]?.bytes ?? 0);
    });
    if (kept !== String(bytes)) {
      await this.apis.core.patchNamespacedPersistentVolumeClaim(
        { namespace: names.namespace, name: names.pvc, body: { metadata: { annotations: { [USED_BYTES_ANNOTATION]: String(bytes) } } } },
        mergePatch,
      );
    }
    return bytes;
  }

  /** The organization's namespace with its quota, limits and policies; set up once per process (and on a plan change). */
  private async ensureNamespace(namespace: string, organizationId: string, plan: string | undefined): Promise<void> {
    const key = plan ?? "free";
    if (this.namespaces.get(namespace) === key) return;
    await ensureOrganizationNamespace(this.apis, this.options, { namespace, organizationId, plan });
    this.namespaces.set(namespace, key);
  }

  /** The compute's admin Secret (made once, with a fresh password); returns the password. */
  private async ensureSecret(names: ComputeNames, labels: Record<string, string>): Promise<string> {
    const password = randomBytes(24).toString("base64url");
    const secret = await createOrAdopt(
      () =>
        this.apis.core.createNamespacedSecret({
          namespace: names.namespace,
          body: adminSecretManifest(names, labels, password, nativePasswordHash(password)),
        }),
      () => this.apis.core.readNamespacedSecret({ namespace: names.namespace, name: names.secret }),
    );
    const stored = secret.data?.password;
    if (!stored) throw new Error(`secret ${names.namespace}/${names.secret} has no password`);
    const value = Buffer.from(stored, "base64").toString("utf8");
    this.passwords.set(labels[COMPUTE_ID_LABEL]!, value);
    return value;
  }

  /**
   * Create the StatefulSet at 1 replica, or bring the existing one to 1 and to the current spec. Each patch
   * names the resourceVersion it was made from: a StatefulSet changed in between (another replica of the
   * control plane) answers 409, and the change is made again from a fresh read.
   */
  private async ensureStatefulSet(spec: ComputeSpec, names: ComputeNames): Promise<void> {
    const desired = statefulSetManifest(spec, names, this.options, 1);
    const { apps } = this.apis;
    const wantHash = desired.metadata!.annotations![SPEC_HASH_ANNOTATION]!;
    for (let attempt = 1; ; attempt++) {
      let existing: V1StatefulSet | null = await readOrNull(() => apps.readNamespacedStatefulSet({ namespace: names.namespace, name: names.name }));
      if (!existing) {
        existing = await createOrAdopt(
          () => apps.createNamespacedStatefulSet({ namespace: names.namespace, body: desired }),
          () => apps.readNamespacedStatefulSet({ namespace: names.namespace, name: names.name }),
        );
      }
      const annotations = existing.metadata?.annotations ?? {};
      const changed = annotations[SPEC_HASH_ANNOTATION] !== wantHash;
      if (!changed && existing.spec?.replicas === 1 && !annotations[PAUSED_ANNOTATION]) return;
      // A changed spec (size, image, settings) replaces the pod template (a merge patch replaces lists
      // whole) and the StatefulSet controller rolls the pod; the volume claim template cannot change.
      const body = {
        metadata: {
          resourceVersion: existing.metadata?.resourceVersion,
          annotations: { [PAUSED_ANNOTATION]: null, ...(changed ? { [SPEC_HASH_ANNOTATION]: wantHash } : {}) },
        },
        spec: { replicas: 1, ...(changed ? { template: desired.spec!.template } : {}) },
      };
      try {
        await apps.patchNamespacedStatefulSet({ namespace: names.namespace, name: names.name, body }, mergePatch);
        if (changed) logger.info({ computeId: spec.computeId }, "compute StatefulSet patched to the current spec");
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= 5) throw error;
      }
    }
  }

  private async waitUntilReady(names: ComputeNames, timeoutMs: number): Promise<V1Pod | null> {
    try {
      return await waitForPod({
        config: this.apis.config,
        readPod: () => this.apis.core.readNamespacedPod({ namespace: names.namespace, name: names.pod }),
        namespace: names.namespace,
        pod: names.pod,
        timeoutMs,
        check: (pod) => {
          if (!pod) return "wait";
          if (isReady(pod)) return "done";
          const failed = podFailure(pod);
          return failed ? { failed } : "wait";
        },
        waitingFor: `pod ${names.namespace}/${names.pod} to be Ready`,
      });
    } catch (error) {
      logger.error({ pod: `${names.namespace}/${names.pod}`, err: apiErrorMessage(error) }, "compute pod did not become Ready");
      throw error;
    }
  }

  /** Where a compute lives: from its facts, else found by its label (facts lost, or never written). */
  private async locate(computeId: string, state: DriverState | null): Promise<ComputeNames | null> {
    const prior = parseState(state);
    if (prior) return computeNames(prior.namespace, computeId, this.options.clusterDomain);
    const selector = `${COMPUTE_ID_LABEL}=${computeId.toLowerCase()}`;
    const sets = await this.apis.apps.listStatefulSetForAllNamespaces({ labelSelector: selector });
    let namespace = sets.items[0]?.metadata?.namespace;
    if (!namespace) {
      const secrets = await this.apis.core.listSecretForAllNamespaces({ labelSelector: selector });
      namespace = secrets.items[0]?.metadata?.namespace;
    }
    return namespace ? computeNames(namespace, computeId, this.options.clusterDomain) : null;
  }

  private async require(computeId: string, state: DriverState | null): Promise<ComputeNames> {
    const names = await this.locate(computeId, state);
    if (!names) throw new Error(`compute ${computeId} has no StatefulSet`);
    return names;
  }

  private async password(computeId: string, names: ComputeNames): Promise<string> {
    const cached = this.passwords.get(computeId);
    if (cached) return cached;
    const secret = await this.apis.core.readNamespacedSecret({ namespace: names.namespace, name: names.secret });
    const value = Buffer.from(secret.data?.password ?? "", "base64").toString("utf8");
    if (!value) throw new Error(`secret ${names.namespace}/${names.secret} has no password`);
    this.passwords.set(computeId, value);
    return value;
  }

  private async withAdmin<T>(computeId: string, state: DriverState | null, fn: (conn: Connection) => Promise<T>): Promise<T> {
    const names = await this.require(computeId, state);
    const conn = await connectNetworkAdmin({ host: names.host, port: MARIADB_PORT }, await this.password(computeId, names));
    try {
      return await fn(conn);
    } finally {
      await closeAdmin(conn);
    }
  }
}
