import { Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { TenantFacingError } from "../../../errors";
import { logger } from "../../../logger";
import { isNotFound } from "./kube-client";

// Waiting for a pod with a watch, not by polling: one GET for the current state and its resourceVersion,
// then a stream of changes from there. A watch that ends (the API server closes watches after a while, a
// load balancer drops the connection, 410 Gone when the version is too old) is started again from a fresh
// GET, until the deadline.

export class ComputePodError extends TenantFacingError {
  constructor(message: string) {
    super(message);
    this.name = "ComputePodError";
  }
}

export interface WaitForPodOptions {
  config: KubeConfig;
  readPod: () => Promise<V1Pod>;
  namespace: string;
  pod: string;
  timeoutMs: number;
  /** Done when this says so (the pod is Ready, or gone); a string is a failure to report. */
  check: (pod: V1Pod | null) => "done" | "wait" | { failed: string };
  /** For logs and the timeout message. */
  waitingFor: string;
}

const REWATCH_DELAY_MS = 100;

export async function waitForPod(options: WaitForPodOptions): Promise<V1Pod | null> {
  const deadline = Date.now() + options.timeoutMs;
  const watch = new Watch(options.config);
  let watches = 0;
  for (;;) {
    const current = await options.readPod().catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    const verdict = options.check(current);
    if (verdict === "done") return current;
    if (typeof verdict === "object") throw new ComputePodError(verdict.failed);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    if (watches++ > 0) logger.info({ pod: options.pod, namespace: options.namespace }, "pod watch ended early; watching again");
    const outcome = await watchOnce(watch, options, current?.metadata?.resourceVersion, remaining);
    if (outcome.kind === "done") return outcome.pod;
    if (outcome.kind === "failed") throw new ComputePodError(outcome.reason);
    if (Date.now() >= deadline) break;
    // The watch ended (or broke): look again, then watch again.
    await new Promise((r) => setTimeout(r, REWATCH_DELAY_MS));
  }
  throw new Error(`${options.waitingFor}: not done after ${options.timeoutMs} ms`);
}

type Outcome = { kind: "done"; pod: V1Pod | null } | { kind: "failed"; reason: string } | { kind: "ended" };

function watchOnce(watch: Watch, options: WaitForPodOptions, resourceVersion: string | undefined, remainingMs: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    let controller: AbortController | null = null;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "ended" }), remainingMs);
    const query: Record<string, string | boolean> = { fieldSelector: `metadata.name=${options.pod}`, allowWatchBookmarks: true };
    if (resourceVersion) query.resourceVersion = resourceVersion;
    watch
      .watch(
        `/api/v1/namespaces/${options.namespace}/pods`,
        query,
        (type: string, object: unknown) => {
          if (type === "BOOKMARK") return;
          // 410 Gone and friends arrive as an ERROR event with a Status: start over from a fresh GET.
          if (type === "ERROR") return finish({ kind: "ended" });
          const pod = type === "DELETED" ? null : (object as V1Pod);
          const verdict = options.check(pod);
          if (verdict === "done") finish({ kind: "done", pod });
          else if (typeof verdict === "object") finish({ kind: "failed", reason: verdict.failed });
        },
        () => finish({ kind: "ended" }),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        () => finish({ kind: "ended" }),
      );
  });
}
