// Names and labels of what the kubernetes driver makes. Everything of one compute carries its id as a label,
// so a compute whose facts were lost (no driver state on its row) is found again by a label selector.

export const PART_OF = "mariadb-serverless";
export const COMPUTE_ID_LABEL = "mariadb-serverless.io/compute-id";
export const ORGANIZATION_ID_LABEL = "mariadb-serverless.io/organization-id";
/** On a StatefulSet: the warm tier's mark (see kubernetes-driver.ts, "pause"), its value the time it was paused. */
export const PAUSED_ANNOTATION = "mariadb-serverless.io/paused-at";
/** On a StatefulSet: a digest of the spec it was made from, to patch it only when the spec changed. */
export const SPEC_HASH_ANNOTATION = "mariadb-serverless.io/spec-hash";
/** On a compute's volume claim: the bytes its server last reported holding (storage metering). */
export const USED_BYTES_ANNOTATION = "mariadb-serverless.io/used-bytes";
export const MARIADB_PORT = 3306;
/** The account the control plane administers a compute with, over the network, its password in a Secret. */
export const ADMIN_USER = "control_plane";
export const ADMIN_MOUNT = "/etc/mariadb-control-plane";
export const DATA_MOUNT = "/var/lib/mysql";
/** The name of the StatefulSet's volume claim template (PVC `data-<statefulset>-0`). */
export const DATA_VOLUME = "data";

// Ids are cuids (lowercase letters and digits); anything else would make invalid object names.
const ID = /^[a-z0-9]{1,40}$/;

function checkedId(kind: string, id: string): string {
  const lower = id.toLowerCase();
  if (!ID.test(lower)) throw new Error(`${kind} id ${JSON.stringify(id)} cannot name Kubernetes objects`);
  return lower;
}

export interface ComputeNames {
  namespace: string;
  /** StatefulSet and Service. */
  name: string;
  secret: string;
  pod: string;
  pvc: string;
  /** The Service's DNS name: how the proxy and the control plane reach the server. */
  host: string;
}

export function namespaceFor(prefix: string, organizationId: string): string {
  return `${prefix}${checkedId("organization", organizationId)}`;
}

export function computeNames(namespace: string, computeId: string, clusterDomain: string): ComputeNames {
  const name = `compute-${checkedId("compute", computeId)}`;
  return {
    namespace,
    name,
    secret: `${name}-admin`,
    pod: `${name}-0`,
    pvc: `${DATA_VOLUME}-${name}-0`,
    host: `${name}.${namespace}.svc.${clusterDomain}`,
  };
}

/** The labels of every object of one compute (`app.kubernetes.io/*` and ours). */
export function computeLabels(computeId: string, organizationId: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "mariadb",
    "app.kubernetes.io/instance": `compute-${computeId}`,
    "app.kubernetes.io/component": "compute",
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "mariadb-serverless-control-plane",
    [COMPUTE_ID_LABEL]: computeId,
    [ORGANIZATION_ID_LABEL]: organizationId,
  };
}

/** What selects a compute's pod (a subset of computeLabels that never changes). */
export function podSelector(computeId: string): Record<string, string> {
  return { "app.kubernetes.io/instance": `compute-${computeId}`, [COMPUTE_ID_LABEL]: computeId };
}
