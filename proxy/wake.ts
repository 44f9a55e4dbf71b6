import { AppError } from "@/server/errors";
import { getComputeById } from "@/server/compute/find-compute";
import { resumeCompute } from "@/server/compute/lifecycle/resume";
import { getDriver } from "@/server/compute/drivers/registry";
import type { Compute } from "@/server/db";
import { ClientError, unavailable } from "./client-error";
import { ErrorCode } from "./protocol/constants";

// Bring a client's compute to `running` before its session is connected. Within one proxy process, the
// clients of one compute share a single wake; across processes the compare-and-set in resumeCompute
// makes sure one `resume_compute` operation does the work and the others wait for it. The proxy wakes as
// itself (a system actor), only ever the compute of the project its client authenticated for.

export interface Endpoint {
  host: string;
  port: number;
  /** The same server's Unix socket on this machine, when its driver has one. */
  socketPath: string | null;
}

/** Where a running compute takes connections; null while it has no endpoint. */
function endpointOf(compute: Compute): Endpoint | null {
  if (compute.state !== "running" || !compute.endpointHost || !compute.endpointPort) return null;
  let socketPath: string | null = null;
  try {
    socketPath = getDriver(compute.driver).localSocket?.(compute.driverState as Record<string, unknown> | null) ?? null;
  } catch {
    // A driver this process does not run (another deployment's): TCP it is.
  }
  return { host: compute.endpointHost, port: compute.endpointPort, socketPath };
}

export interface WakeResult {
  endpoint: Endpoint;
  /** The state it was woken from, or null when it was already running. */
  wokeFrom: string | null;
}

export class Waker {
  private readonly inflight = new Map<string, Promise<WakeResult>>();

  async ensureRunning(args: { computeId: string; projectId: string; slug: string; who: string; deadline: number }): Promise<WakeResult> {
    const compute = await getComputeById(args.computeId).catch(() => null);
    if (!compute) throw unavailable(`project '${args.slug}' has no compute; create one in the console or with the API`, "no_compute");
    const endpoint = endpointOf(compute);
    if (endpoint) return { endpoint, wokeFrom: null };
    if (compute.state === "deleting") throw unavailable(`the compute of project '${args.slug}' is being deleted`, "deleting");
    if (compute.state === "failed") {
      throw unavailable(
        `the compute of project '${args.slug}' has failed${compute.failureReason ? ` (${compute.failureReason})` : ""}; resume it from the console or with the API, or contact support`,
        "failed",
      );
    }
    let wake = this.inflight.get(compute.id);
    if (!wake) {
      wake = this.wake(compute.id, compute.state, args).finally(() => this.inflight.delete(compute.id));
      this.inflight.set(compute.id, wake);
    }
    return wake;
  }

  private async wake(computeId: string, from: string, args: { projectId: string; slug: string; who: string; deadline: number }): Promise<WakeResult> {
    const timeoutMessage = `the compute of project '${args.slug}' did not wake in time; try again in a moment, and check its status in the console if it keeps failing`;
    let result;
    try {
      result = await resumeCompute({
        actor: { system: "proxy", projectId: args.projectId },
        computeId,
        reason: `woken by the proxy for ${args.who}`,
        waitMs: Math.max(0, args.deadline - Date.now()),
      });
    } catch (error) {
      if (error instanceof AppError && error.code === "quota_exceeded") {
        throw new ClientError(ErrorCode.QUOTA, "42000", `project '${args.slug}': ${error.message}`, "quota");
      }
      if (error instanceof AppError && error.code === "conflict") throw unavailable(`project '${args.slug}': ${error.message}`, "deleting");
      if (error instanceof AppError && error.code === "unavailable") {
        throw unavailable(`the compute of project '${args.slug}' could not be started; it is marked failed - resume it from the console`, "failed");
      }
      throw error;
    }
    const endpoint = result.pending ? null : endpointOf(result.compute);
    if (!endpoint) throw unavailable(timeoutMessage, "wake_timeout");
    return { endpoint, wokeFrom: from };
  }
}
