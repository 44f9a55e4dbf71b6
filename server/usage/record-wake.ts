import { db } from "../db";
import type { ComputeState } from "../db/generated/enums";

// A wake as the client saw it (WakeEvent), written by the proxy once the compute answered the client's
// login. Wakes are rare next to queries, so one insert each, off the data path (the proxy does not wait).

export interface WakeRecord {
  computeId: string;
  projectId: string;
  /** The project's organization when the caller knows it (the proxy's route has it): not read again. */
  organizationId?: string;
  /** The state the client's connect found: paused (warm), suspended (cold), or a wake under way. */
  fromState: string;
  startedAt: Date;
  durationMs: number;
  role: string;
  clientAddress: string;
}

export function wakeKind(fromState: string): "warm" | "cold" | "joined" {
  if (fromState === "paused") return "warm";
  if (fromState === "suspended" || fromState === "failed") return "cold";
  return "joined";
}

export async function recordWake(wake: WakeRecord): Promise<void> {
  const organizationId =
    wake.organizationId ?? (await db.project.findUnique({ where: { id: wake.projectId }, select: { organizationId: true } }))?.organizationId;
  if (!organizationId) return; // deleted while it woke: nothing to bill it to
  await db.wakeEvent.create({
    data: {
      organizationId,
      projectId: wake.projectId,
      computeId: wake.computeId,
      fromState: wake.fromState as ComputeState,
      kind: wakeKind(wake.fromState),
      startedAt: wake.startedAt,
      durationMs: Math.max(0, Math.round(wake.durationMs)),
      role: wake.role,
      clientAddress: wake.clientAddress,
    },
  }).catch((error: unknown) => {
    // The project (and its compute) was deleted while it woke: nothing to bill it to.
    if ((error as { code?: string }).code === "P2003") return;
    throw error;
  });
}
