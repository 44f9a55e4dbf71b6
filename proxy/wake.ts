import { runningAddress, type ComputeAddress } from "@/server/compute/address";
import { resumeForClient } from "@/server/compute/lifecycle/resume";
import { unavailable } from "./client-error";
import { wakeRefusal } from "./policy";
import type { Route } from "./routing";

// Bring a client's compute to `running` before its session is connected, deciding on the compute's row as
// the client's route look-up read it (no read of its own). Within one proxy process, the clients of one
// compute share a single wake; across processes the compare-and-set in the lifecycle makes sure one
// `resume_compute` operation does the work and the others wait for it. The proxy wakes as itself (a system
// actor), only ever the compute of the project its client authenticated for. The address it answers with
// is the one the state machine recorded with `running`.

export interface WakeResult {
  address: ComputeAddress;
  /** The state it was woken from, or null when it was already running. */
  wokeFrom: string | null;
  /** The paused server of the row decided on was let go: a connection made to it before is to this server. */
  thawed: boolean;
}

/** Told where a compute this wake starts takes connections, as soon as its server answers. */
export type OnReady = (address: ComputeAddress) => void;

/** Told where the server a wake brings up serves, before the wake's commit is known (WakeOptions.onServing). */
export type OnServing = (address: ComputeAddress | null) => void;

/** One wake in flight, shared by the clients of its compute in this process, and what it said so far. */
interface Inflight {
  result: Promise<WakeResult>;
  listeners: Set<OnReady>;
  servingListeners: Set<OnServing>;
  heard: { ready: ComputeAddress | null; serving: { address: ComputeAddress | null } | null };
}

export class Waker {
  private readonly inflight = new Map<string, Inflight>();

  /**
   * `route.compute` must be current (read after the client arrived): it decides whether to wake. `onReady`
   * hears once where a server this wake starts takes connections, as soon as it answers (before the start
   * is recorded), so the client's login can begin then; the login is good only if the wake succeeds at
   * that address. `onServing` hears once where the server the wake brings up serves, before the wake has
   * committed (WakeOptions.onServing). A thaw this call starts sends its compare-and-set once `commitAfter`
   * settles (WakeOptions.commitAfter: the client's login to the frozen server).
   */
  async ensureRunning(args: {
    route: Route;
    who: string;
    deadline: number;
    onReady?: OnReady;
    onServing?: OnServing;
    commitAfter?: Promise<unknown>;
  }): Promise<WakeResult> {
    const { route } = args;
    const compute = route.compute;
    if (!compute) throw unavailable(`project '${route.slug}' has no compute; create one in the console or with the API`, "no_compute");
    const { row } = compute;
    const address = runningAddress(row);
    if (address) return { address, wokeFrom: null, thawed: false };
    if (row.state === "deleting") throw unavailable(`the compute of project '${route.slug}' is being deleted`, "deleting");
    if (row.state === "failed") {
      throw unavailable(
        `the compute of project '${route.slug}' has failed${row.failureReason ? ` (${row.failureReason})` : ""}; resume it from the console or with the API, or contact support`,
        "failed",
      );
    }
    let wake = this.inflight.get(row.id);
    if (!wake) {
      const listeners = new Set<OnReady>();
      const servingListeners = new Set<OnServing>();
      const heard: Inflight["heard"] = { ready: null, serving: null };
      const onReady: OnReady = (ready) => {
        heard.ready = ready;
        for (const listener of listeners) listener(ready);
      };
      const onServing: OnServing = (address) => {
        heard.serving = { address };
        for (const listener of servingListeners) listener(address);
      };
      const result = this.wake(route, compute, args, { onReady, onServing, commitAfter: args.commitAfter }).finally(() => this.inflight.delete(row.id));
      wake = { result, listeners, servingListeners, heard };
      this.inflight.set(row.id, wake);
    }
    if (args.onReady) {
      if (wake.heard.ready) args.onReady(wake.heard.ready);
      else wake.listeners.add(args.onReady);
    }
    if (args.onServing) {
      if (wake.heard.serving) args.onServing(wake.heard.serving.address);
      else wake.servingListeners.add(args.onServing);
    }
    return wake.result;
  }

  private async wake(
    route: Route,
    compute: NonNullable<Route["compute"]>,
    args: { who: string; deadline: number },
    hooks: { onReady: OnReady; onServing: OnServing; commitAfter?: Promise<unknown> },
  ): Promise<WakeResult> {
    let address: ComputeAddress | null;
    let thawed: boolean;
    try {
      ({ address, thawed } = await resumeForClient({
        projectId: route.projectId,
        row: compute.row,
        context: compute.context,
        reason: `woken by the proxy for ${args.who}`,
        waitMs: Math.max(0, args.deadline - Date.now()),
        ...hooks,
      }));
    } catch (error) {
      throw wakeRefusal(error, route.slug) ?? error;
    }
    if (!address) {
      throw unavailable(
        `the compute of project '${route.slug}' did not wake in time; try again in a moment, and check its status in the console if it keeps failing`,
        "wake_timeout",
      );
    }
    return { address, wokeFrom: compute.row.state, thawed };
  }
}
