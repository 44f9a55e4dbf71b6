import type { Prisma } from "../db";
import { db } from "../db";
import type { AuditAction, AuditTargetType } from "@/lib/audit";

/** Who did it, as the audit log shows it: a caller, or the operator's command line. */
export interface AuditActor {
  actor: string;
  email: string | null;
}

type Client = Pick<typeof db, "auditEvent">;

/**
 * Write one audit entry. Pass the transaction client of the change it records, so the change and its
 * entry are written together or not at all.
 */
export async function recordAuditEvent({
  client = db,
  organizationId,
  actor,
  action,
  targetType,
  targetId,
  targetLabel,
  details,
}: {
  client?: Client;
  organizationId: string;
  actor: AuditActor;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId?: string | null;
  targetLabel?: string | null;
  details?: Prisma.InputJsonObject;
}): Promise<void> {
  await client.auditEvent.create({
    data: {
      organizationId,
      actor: actor.actor,
      actorEmail: actor.email,
      action,
      targetType,
      targetId: targetId ?? null,
      targetLabel: targetLabel ?? null,
      ...(details ? { details } : {}),
    },
  });
}
