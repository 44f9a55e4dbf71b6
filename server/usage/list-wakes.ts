import { db } from "../db";
import { notFound } from "../errors";
import { page } from "../util/paginate";
import type { Pagination } from "@/lib/schemas";

/** A project's wakes as its clients saw them (recorded by the proxy), newest first. */
export async function listWakes({ organizationIds, projectId, pagination }: { organizationIds: string[]; projectId: string; pagination: Pagination }) {
  const project = await db.project.findFirst({ where: { id: projectId, organizationId: { in: organizationIds } }, select: { id: true } });
  if (!project) throw notFound("project");
  const rows = await db.wakeEvent.findMany({
    where: { projectId: project.id },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    ...page.query(pagination),
  });
  const { items, nextCursor } = page.result(rows, pagination);
  return {
    wakes: items.map((w) => ({
      id: w.id,
      computeId: w.computeId,
      startedAt: w.startedAt.toISOString(),
      fromState: w.fromState,
      kind: w.kind,
      durationMs: w.durationMs,
      role: w.role,
      clientAddress: w.clientAddress,
    })),
    nextCursor,
  };
}
