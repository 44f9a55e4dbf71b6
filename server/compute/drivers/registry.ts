import path from "node:path";
import { config } from "../../config";
import { AppError } from "../../errors";
import type { ComputeDriver } from "./types";
import { logger } from "../../logger";
import { isolation } from "./local/isolation";
import { LocalDriver } from "./local/local-driver";
import { kubeApis } from "./kubernetes/kube-client";
import { KubernetesDriver } from "./kubernetes/kubernetes-driver";

// One driver instance per name and process. A compute row remembers the driver that runs it, so changing
// COMPUTE_DRIVER affects new computes only.

const globalForDrivers = globalThis as unknown as { __computeDrivers?: Map<string, ComputeDriver> };
const overrides = new Map<string, ComputeDriver>();

/** Replace a driver (benchmarks use one that only records its calls). */
export function registerDriver(driver: ComputeDriver): void {
  overrides.set(driver.name, driver);
}

export function getDriver(name: string): ComputeDriver {
  const override = overrides.get(name);
  if (override) return override;
  globalForDrivers.__computeDrivers ??= new Map();
  const drivers = globalForDrivers.__computeDrivers;
  let driver = drivers.get(name);
  if (!driver) {
    if (name === "kubernetes") {
      driver = kubernetesDriver();
      drivers.set(name, driver);
      return driver;
    }
    if (name !== "local") {
      throw new AppError("unavailable", `the compute driver "${name}" is not available in this deployment`);
    }
    const cfg = config();
    driver = new LocalDriver({ dataDir: path.join(cfg.dataDir), host: cfg.COMPUTE_HOST });
    // What this machine does not let the driver enforce is said once, at the first use.
    void isolation().then(
      (found) => found.missing.forEach((line) => logger.warn(`tenant isolation: ${line}`)),
      (err: unknown) => logger.error({ err: String(err) }, "tenant isolation cannot be set up"),
    );
    drivers.set(name, driver);
  }
  return driver;
}

/** COMPUTE_DRIVER=kubernetes: KUBECONFIG (or the in-cluster service account) and the KUBERNETES_* settings. */
function kubernetesDriver(): ComputeDriver {
  const cfg = config();
  return new KubernetesDriver({
    apis: kubeApis(),
    image: cfg.COMPUTE_IMAGE,
    platformNamespace: cfg.KUBERNETES_PLATFORM_NAMESPACE,
    storageClass: cfg.KUBERNETES_STORAGE_CLASS,
    pageserverUrl: cfg.PAGESERVER_URL,
    safekeeperUrls: cfg.SAFEKEEPER_URLS,
    namespacePrefix: cfg.KUBERNETES_NAMESPACE_PREFIX,
    clusterDomain: cfg.KUBERNETES_CLUSTER_DOMAIN,
    startTimeoutMs: cfg.KUBERNETES_START_TIMEOUT_MS,
    wakeTimeoutMs: cfg.PROXY_WAKE_TIMEOUT_MS,
  });
}

export function defaultDriverName(): string {
  return config().COMPUTE_DRIVER;
}
