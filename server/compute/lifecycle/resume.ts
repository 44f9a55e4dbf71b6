import type { Compute } from "../../db";
import { AppError, notFound } from "../../errors";
import { runningAddress, type ComputeAddress } from "../address";
import { getComputeById } from "../find-compute";
import { latestOperationId } from "../latest-operation";
import { computeFor, actorName, type Actor } from "./actor";
import type { LifecycleResult } from "./result";
import { settle } from "./settle";
import { wakeFrom, type WakeContext, type WakeOptions, type WakeRow, type Woken } from "./wake";

export interface ResumeInput {
  actor: Actor;
  computeId: string;
  reason: string | null;
  /** How long to wait for a transition someone else is making; after that the reply is "still going". */
  waitMs?: number;
}

interface Outcome {
  /** The last row this loop read, or null when it decided on the row it was given. */
  latest: Compute | null;
  woken: Woken | null;
  pending: boolean;
}

/**
 * From the row as read, until the compute runs: thaw a paused one, start a suspended or failed one, wait
 * for one that is moving. However many callers race, one wins the compare-and-set and does the work; the
 * others wait for its result (so 30 concurrent resumes start the process once). `context` holds for the
 * given row only: a row read again goes without it.
 */
async function untilRunning(
  start: WakeRow,
  actor: Actor,
  reason: string | null,
  deadline: number,
  context?: WakeContext,
  hooks: Pick<WakeOptions, "onReady" | "onServing" | "commitAfter"> = {},
): Promise<Outcome> {
  let compute: WakeRow = start;
  let latest: Compute | null = null;
  for (;;) {
    switch (compute.state) {
      case "running":
        return { latest, woken: null, pending: false };
      case "deleting":
        throw new AppError("conflict", "the compute is being deleted");
      case "paused":
      case "suspended":
      case "failed": {
        // A thaw of a row read again is not of the server the caller's client reached: it is not told of it.
        const told = latest && compute.state === "paused" ? { onReady: hooks.onReady } : hooks;
        const woken = await wakeFrom(compute, { actor: actorName(actor), reason, ...told }, latest ? undefined : context);
        if (woken) return { latest, woken, pending: false };
        compute = latest = await getComputeById(compute.id); // lost the race: look again
        break;
      }
      default: {
        const settled = await settle(compute.id, deadline);
        if (!settled) return { latest, woken: null, pending: true };
        compute = latest = settled;
      }
    }
  }
}

/** Bring a compute to `running`, whatever state it is in (see untilRunning); the API's and console's resume. */
export async function resumeCompute(input: ResumeInput): Promise<LifecycleResult> {
  const deadline = Date.now() + (input.waitMs ?? 60_000);
  const compute = await computeFor(input.actor, input.computeId);
  const { latest, woken, pending } = await untilRunning(compute, input.actor, input.reason, deadline);
  if (woken) return { compute: await getComputeById(compute.id), operationId: woken.operationId, pending: false };
  return { compute: pending ? await getComputeById(compute.id) : (latest ?? compute), operationId: await latestOperationId(compute.id), pending };
}

export interface ClientWake {
  /** Where the compute takes connections; null when it is not running by the deadline. */
  address: ComputeAddress | null;
  /** The operation of the wake this caller made, or null when it found the compute running or joined one. */
  operationId: string | null;
  /**
   * The paused process of the row this caller was given runs now, at the same address: this caller's wake let
   * it go, or another's did (it lost the compare-and-set and found the compute running on the very server
   * the row named: same driver state and address). Not a new server either way.
   */
  thawed: boolean;
}

/**
 * The proxy's resume for an authenticated client: from the row its route look-up just read, with the
 * project's facts read alongside (`context`), so deciding costs no read; answers with the address. The
 * proxy may only wake the compute of the project its client authenticated for.
 */
export async function resumeForClient(input: {
  projectId: string;
  row: WakeRow;
  context: WakeContext;
  reason: string;
  waitMs: number;
  /** A start of this caller's tells where the new server takes connections as soon as it answers. */
  onReady?: WakeOptions["onReady"];
  /** Told where the server this caller's wake brings up serves, before the wake has committed (see WakeOptions.onServing). */
  onServing?: WakeOptions["onServing"];
  /** A thaw's compare-and-set waits for it (see WakeOptions.commitAfter). */
  commitAfter?: WakeOptions["commitAfter"];
}): Promise<ClientWake> {
  if (input.row.projectId !== input.projectId) throw notFound("compute");
  const actor: Actor = { system: "proxy", projectId: input.projectId };
  const hooks = { onReady: input.onReady, onServing: input.onServing, commitAfter: input.commitAfter };
  const { latest, woken, pending } = await untilRunning(input.row, actor, input.reason, Date.now() + input.waitMs, input.context, hooks);
  if (woken) return { address: woken.address, operationId: woken.operationId, thawed: woken.thawed && latest === null };
  const address = pending ? null : runningAddress(latest ?? input.row);
  return { address, operationId: null, thawed: input.row.state === "paused" && latest !== null && address !== null && sameServer(input.row, latest) };
}

/** The row read later names the same server as the paused row given: the same driver state at the same address. */
function sameServer(paused: WakeRow, now: Compute): boolean {
  return (
    JSON.stringify(paused.driverState) === JSON.stringify(now.driverState) &&
    paused.endpointHost === now.endpointHost &&
    paused.endpointPort === now.endpointPort &&
    paused.endpointSocket === now.endpointSocket
  );
}
