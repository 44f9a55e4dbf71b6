import { db } from "../db";
import { notFound } from "../errors";
import { page } from "../util/paginate";
import type { Pagination } from "@/lib/schemas";
import type { Operation } from "../db";

export function presentOperation(op: Operation) {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    computeId: op.computeId,
    projectId: op.projectId,
    reason: op.reason,
    actor: op.actor,
    error: op.status === "failed" ? op.error : null,
    createdAt: op.createdAt.toISOString(),
    finishedAt: op.finishedAt?.toISOString() ?? null,
    durationMs: op.finishedAt ? op.finishedAt.getTime() - op.createdAt.getTime() : null,
  };
}

export async function getOperation(id: string | null) {
  if (!id) return null;
  const op = await db.operation.findUnique({ where: { id } });
  return op ? presentOperation(op) : null;
}

/** The project's operations, newest first. */
export async function listOperations({
  organizationIds,
  projectId,
  pagination,
}: {
  organizationIds: string[];
  projectId: string;
  pagination: Pagination;
}) {
  const project = await db.project.findFirst({
    where: { id: projectId, organizationId: { in: organizationIds } },
    select: { id: true, organizationId: true, createdAt: true },
  });
  if (!project) throw notFound("project");
  const rows = await db.operation.findMany({
    // The project's own, and its organization's spend-cap alerts since the project exists (they concern
    // every compute of the organization; server/billing/spend-alerts.ts).
    where: {
      OR: [
        { projectId: project.id },
        { organizationId: project.organizationId, kind: "spend_threshold", createdAt: { gte: project.createdAt } },
      ],
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    ...page.query(pagination),
  });
  const { items, nextCursor } = page.result(rows, pagination);
  return { operations: items.map(presentOperation), nextCursor };
}
