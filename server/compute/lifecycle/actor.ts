import { db, type Compute } from "../../db";
import { notFound } from "../../errors";
import type { Caller } from "../../tenancy/caller";
import { findComputeToChange } from "../find-compute";

// Who asks a lifecycle verb to act, and the check each verb makes itself before it touches anything. A
// verb is never "unchecked": it acts for a tenant's caller (its role in the compute's organization is
// checked: 404 outside it, 403 below member) or for a named part of the platform, which says so
// explicitly. The proxy names the project its client authenticated for, and may wake only that project's
// compute; the scheduler and the reconciler act on any compute, as does an operator's tool on the machine
// itself (the benches).

export type SystemActorName = "scheduler" | "reconciler" | "proxy" | "operator";

export type Actor =
  | { caller: Caller }
  | { system: "proxy"; projectId: string }
  | { system: Exclude<SystemActorName, "proxy"> };

/** What operations record as their actor: "user:<id>", "api_key:<id>", or the system part's name. */
export function actorName(actor: Actor): string {
  return "caller" in actor ? actor.caller.actor : actor.system;
}

/** The compute, once the actor may change it (a 404 for a compute it may not see, as for a missing one). */
export async function computeFor(actor: Actor, computeId: string): Promise<Compute> {
  if ("caller" in actor) return findComputeToChange({ caller: actor.caller, computeId });
  const compute = await db.compute.findFirst({
    where: actor.system === "proxy" ? { id: computeId, projectId: actor.projectId } : { id: computeId },
  });
  if (!compute) throw notFound("compute");
  return compute;
}
