import type { Compute } from "../../db";
import { isTransitional } from "@/lib/compute-states";
import { getComputeById } from "../find-compute";
import { takeOverTransition } from "./take-over";
import { leaseExpired } from "./transition";

// The one wait-or-take-over of the lifecycle (DESIGN.md: a request that meets a compute mid-transition
// waits for it, never 409). Every verb that finds the compute moving calls this, then decides again on
// the settled row.

const POLL_MS = 20;

/**
 * Wait until no replica is moving the compute; a transition whose owner's lease ran out (it died) is taken
 * over and finished here. Returns the settled row, or null when `deadline` (epoch ms) came first. Throws
 * not_found when the row is gone (a delete finished meanwhile).
 */
export async function settle(computeId: string, deadline: number): Promise<Compute | null> {
  for (;;) {
    const compute = await getComputeById(computeId);
    if (!isTransitional(compute.state)) return compute;
    if (leaseExpired(compute)) {
      await takeOverTransition(compute);
      continue;
    }
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
