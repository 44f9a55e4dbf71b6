import { db } from "../db";

/**
 * The organization of each project, for the work pool's fair share. Asked only for the few computes a
 * tick queues work for, in one query, so the tick's scans of every compute stay free of joins.
 */
export async function organizationsOf(projectIds: Iterable<string>): Promise<Map<string, string>> {
  const ids = [...new Set(projectIds)];
  if (ids.length === 0) return new Map();
  const projects = await db.project.findMany({ where: { id: { in: ids } }, select: { id: true, organizationId: true } });
  return new Map(projects.map((p) => [p.id, p.organizationId]));
}
