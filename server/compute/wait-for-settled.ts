import { isTransitional } from "@/lib/compute-states";
import { getComputeById } from "./find-compute";

const POLL_MS = 20;

/**
 * Wait until no replica is in the middle of moving the compute (DESIGN.md: a request that meets a
 * transition waits for it). Returns the settled row, or the row still in its transitional state when the
 * owner's lease ran out (the owner died: the caller takes over through the reconciler), or null when the
 * wait ran out first.
 */
export async function waitForSettled(computeId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const compute = await getComputeById(computeId);
    if (!isTransitional(compute.state)) return compute;
    if (compute.leaseUntil && compute.leaseUntil.getTime() < Date.now()) return compute;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
