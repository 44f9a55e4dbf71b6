import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";

// The Kubernetes API as the driver uses it: KUBECONFIG (or ~/.kube/config) when there is one, else the
// in-cluster service account. Only the kinds and verbs deploy/kubernetes/rbac.yaml grants are called.

export interface KubeApis {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  networking: NetworkingV1Api;
}

export function kubeApis(config?: KubeConfig): KubeApis {
  let kc = config;
  if (!kc) {
    kc = new KubeConfig();
    if (process.env.KUBECONFIG || !process.env.KUBERNETES_SERVICE_HOST) kc.loadFromDefault();
    else kc.loadFromCluster();
  }
  return {
    config: kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    networking: kc.makeApiClient(NetworkingV1Api),
  };
}

/** What the API answered instead of the object (ApiException carries the HTTP status). */
export function statusOf(error: unknown): number | null {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : null;
}

export const isNotFound = (error: unknown) => statusOf(error) === 404;
export const isConflict = (error: unknown) => statusOf(error) === 409;

/** The object, or null when it does not exist. */
export async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Create; an object that exists already (409) is adopted as it is and read back. */
export async function createOrAdopt<T>(create: () => Promise<T>, read: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (!isConflict(error)) throw error;
    return read();
  }
}

/** Delete; what is gone already is fine. */
export async function deleteIfPresent(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Request options for a JSON merge patch (RFC 7386); the client's default patch type is a JSON patch. */
export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** A readable reason from an API error's Status body, for logs and operation errors. */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | string | undefined;
    const message = typeof body === "object" && body && typeof body.message === "string" ? body.message : typeof body === "string" ? body : "";
    return `Kubernetes API ${error.code}${message ? `: ${message}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}
