import { createHash } from "node:crypto";
import type {
  V1LimitRange,
  V1Namespace,
  V1NetworkPolicy,
  V1ResourceQuota,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { PLANS, type PlanLimits } from "../../../billing/plans";
import type { Plan } from "../../../db/generated/enums";
import { limitsForSize, MEMORY_BYTES_PER_CU } from "../local/resources";
import { serverSettingsArgs } from "../local/mariadb-config";
import { grantSql, revokeDeniedEverywhereSql } from "../local/privileges";
import { sqlString } from "../local/sql-quote";
import type { ComputeSpec } from "../types";
import {
  ADMIN_MOUNT,
  ADMIN_USER,
  computeLabels,
  DATA_MOUNT,
  DATA_VOLUME,
  MARIADB_PORT,
  PART_OF,
  podSelector,
  SPEC_HASH_ANNOTATION,
  type ComputeNames,
} from "./names";

// The objects the kubernetes driver sends, as plain data (test/kubernetes validates each against the
// Kubernetes OpenAPI schemas). Nothing here talks to a cluster.

export interface ManifestSettings {
  image: string;
  /** The namespace of the platform's app and proxy pods: the only clients compute pods accept. */
  platformNamespace: string;
  storageClass?: string;
  pageserverUrl?: string;
  safekeeperUrls?: string;
}

/** An organization without a project cap (the enterprise plan) still gets a bound: this many computes. */
const UNCAPPED_COMPUTES = 1000;
/** The official image runs mariadbd as this uid and gid (mysql). */
const MYSQL_UID = 999;

export function cpuQuantity(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}

function planLimits(plan: string | undefined): PlanLimits {
  return (PLANS[(plan ?? "free") as Plan] ?? PLANS.free).limits;
}

export function namespaceManifest(namespace: string, organizationId: string): V1Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: { "app.kubernetes.io/part-of": PART_OF, "mariadb-serverless.io/organization-id": organizationId },
    },
  };
}

/** What an organization's computes may hold in all: its plan's computes at its plan's largest size. */
export function resourceQuotaManifest(namespace: string, plan: string | undefined): V1ResourceQuota {
  const limits = planLimits(plan);
  const computes = limits.projects ?? UNCAPPED_COMPUTES;
  const cores = computes * limits.maxComputeSize;
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "computes", namespace, labels: { "app.kubernetes.io/part-of": PART_OF } },
    spec: {
      hard: {
        "count/statefulsets.apps": String(computes),
        persistentvolumeclaims: String(computes),
        services: String(computes),
        secrets: String(computes + 10),
        "requests.cpu": cpuQuantity(cores),
        "limits.cpu": cpuQuantity(cores),
        "requests.memory": String(cores * MEMORY_BYTES_PER_CU),
        "limits.memory": String(cores * MEMORY_BYTES_PER_CU),
        "requests.storage": String(computes * limits.storageBytesPerCompute),
      },
    },
  };
}

/** One compute may be at most the plan's largest size and hold at most the plan's storage. */
export function limitRangeManifest(namespace: string, plan: string | undefined): V1LimitRange {
  const limits = planLimits(plan);
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "computes", namespace, labels: { "app.kubernetes.io/part-of": PART_OF } },
    spec: {
      limits: [
        {
          type: "Container",
          max: { cpu: cpuQuantity(limits.maxComputeSize), memory: String(limits.maxComputeSize * MEMORY_BYTES_PER_CU) },
        },
        { type: "PersistentVolumeClaim", max: { storage: String(limits.storageBytesPerCompute) } },
      ],
    },
  };
}

function portOf(url: string): number | null {
  try {
    const parsed = new URL(url);
    if (parsed.port) return Number(parsed.port);
    return parsed.protocol === "https:" ? 443 : parsed.protocol === "http:" ? 80 : null;
  } catch {
    return null;
  }
}

/**
 * Default deny in both directions; compute pods take connections on 3306 only from the platform's app and
 * proxy pods, and reach only the cluster's DNS and (when configured) the storage layer's ports.
 */
export function networkPolicyManifests(namespace: string, settings: ManifestSettings): V1NetworkPolicy[] {
  const labels = { "app.kubernetes.io/part-of": PART_OF };
  const computePods = { matchLabels: { "app.kubernetes.io/component": "compute" } };
  const storagePorts = [settings.pageserverUrl, ...(settings.safekeeperUrls?.split(",") ?? [])]
    .map((u) => (u ? portOf(u.trim()) : null))
    .filter((p): p is number => p !== null);
  const policies: V1NetworkPolicy[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace, labels },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "computes-from-platform", namespace, labels },
      spec: {
        podSelector: computePods,
        policyTypes: ["Ingress"],
        ingress: [
          {
            _from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": settings.platformNamespace } },
                podSelector: {
                  matchLabels: { "app.kubernetes.io/part-of": PART_OF },
                  matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["app", "proxy"] }],
                },
              },
            ],
            ports: [{ protocol: "TCP", port: MARIADB_PORT }],
          },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "computes-to-dns-and-storage", namespace, labels },
      spec: {
        podSelector: computePods,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          ...(storagePorts.length > 0 ? [{ ports: [...new Set(storagePorts)].map((port) => ({ protocol: "TCP", port })) }] : []),
        ],
      },
    },
  ];
  return policies;
}

/**
 * Run by mariadbd at every start (--init-file), before it accepts connections: the control plane's account,
 * reachable over the network with the Secret's password (the local driver's is a unix_socket account), is
 * brought back even if a tenant dropped or changed it, and no account keeps the denied privileges.
 */
export function adminInitSql(passwordHash: string): string {
  const account = `${sqlString(ADMIN_USER)}@'%'`;
  const hash = sqlString(passwordHash.toUpperCase());
  return [
    revokeDeniedEverywhereSql(),
    `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY PASSWORD ${hash};`,
    `ALTER USER ${account} IDENTIFIED BY PASSWORD ${hash} ACCOUNT UNLOCK;`,
    `${grantSql(account)};`,
    "",
  ].join("\n");
}

export function adminSecretManifest(
  names: ComputeNames,
  labels: Record<string, string>,
  password: string,
  passwordHash: string,
): V1Secret {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: names.secret, namespace: names.namespace, labels },
    data: { password: b64(password), "init.sql": b64(adminInitSql(passwordHash)) },
  };
}

export function serviceManifest(names: ComputeNames, labels: Record<string, string>, computeId: string): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: names.name, namespace: names.namespace, labels },
    spec: {
      type: "ClusterIP",
      selector: podSelector(computeId),
      ports: [{ name: "mysql", protocol: "TCP", port: MARIADB_PORT, targetPort: "mysql" }],
    },
  };
}

/** The storage layer's addresses and the ids it knows the compute by, for an image that serves MariaDB pages. */
function storageEnv(spec: ComputeSpec, settings: ManifestSettings): { name: string; value: string }[] {
  const env = [{ name: "COMPUTE_ID", value: spec.computeId }];
  if (settings.pageserverUrl) env.push({ name: "PAGESERVER_URL", value: settings.pageserverUrl });
  if (settings.safekeeperUrls) env.push({ name: "SAFEKEEPER_URLS", value: settings.safekeeperUrls });
  if (settings.pageserverUrl || settings.safekeeperUrls) {
    if (spec.organizationId) env.push({ name: "TENANT_ID", value: spec.organizationId });
    // One timeline per project (its main branch).
    if (spec.projectId) env.push({ name: "TIMELINE_ID", value: spec.projectId });
  }
  return env;
}

export function statefulSetManifest(
  spec: ComputeSpec,
  names: ComputeNames,
  settings: ManifestSettings,
  replicas: 0 | 1,
): V1StatefulSet {
  const labels = computeLabels(spec.computeId, spec.organizationId ?? "none");
  const limits = limitsForSize(spec.size);
  const resources = {
    cpu: cpuQuantity(limits.cpuCores),
    memory: String(limits.memoryBytes),
  };
  const template: V1StatefulSet["spec"] = {
    replicas,
    serviceName: names.name,
    podManagementPolicy: "Parallel",
    selector: { matchLabels: podSelector(spec.computeId) },
    // The data outlives scale to zero and goes with the StatefulSet (delete removes the volume too).
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
    template: {
      metadata: { labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 30,
        securityContext: {
          runAsUser: MYSQL_UID,
          runAsGroup: MYSQL_UID,
          fsGroup: MYSQL_UID,
          runAsNonRoot: true,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: "mariadb",
            image: settings.image,
            // The official image's entrypoint hands arguments that start with "-" to mariadbd.
            args: [...serverSettingsArgs(spec.size), `--init-file=${ADMIN_MOUNT}/init.sql`],
            env: [
              { name: "MARIADB_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: names.secret, key: "password" } } },
              // root exists only inside the pod: no password-less (nor any) remote root.
              { name: "MARIADB_ROOT_HOST", value: "localhost" },
              { name: "MARIADB_AUTO_UPGRADE", value: "1" },
              { name: "TZ", value: "UTC" },
              ...storageEnv(spec, settings),
            ],
            ports: [{ name: "mysql", containerPort: MARIADB_PORT, protocol: "TCP" }],
            readinessProbe: {
              exec: { command: ["healthcheck.sh", "--connect", "--innodb_initialized"] },
              periodSeconds: 1,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            resources: { requests: resources, limits: resources },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            volumeMounts: [
              { name: DATA_VOLUME, mountPath: DATA_MOUNT },
              { name: "admin", mountPath: ADMIN_MOUNT, readOnly: true },
            ],
          },
        ],
        volumes: [{ name: "admin", secret: { secretName: names.secret, defaultMode: 0o440, items: [{ key: "init.sql", path: "init.sql" }] } }],
      },
    },
    volumeClaimTemplates: [
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: DATA_VOLUME, labels },
        spec: {
          accessModes: ["ReadWriteOnce"],
          ...(settings.storageClass ? { storageClassName: settings.storageClass } : {}),
          resources: { requests: { storage: String(spec.storageLimitBytes ?? PLANS.free.limits.storageBytesPerCompute) } },
        },
      },
    ],
  };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: names.name,
      namespace: names.namespace,
      labels,
      annotations: { [SPEC_HASH_ANNOTATION]: specHash(template.template) },
    },
    spec: template,
  };
}

/** A digest of the pod template: a StatefulSet whose annotation differs is patched (a changed spec). */
export function specHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}
