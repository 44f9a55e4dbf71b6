import { db } from "../db";
import { AppError, notFound } from "../errors";
import { generateSlug } from "../util/slug";
import { deleteCompute } from "../compute/lifecycle/delete";
import { authorize, type Caller } from "../tenancy/caller";
import { assertProjectLimit } from "../billing/plan-limits";
import { accessRulesData, ACCESS_RULE_FIELDS, withAccess } from "./access-rules";
import type { AccessRulesUpdate } from "@/lib/schemas";

const PROJECT_FIELDS = {
  id: true,
  slug: true,
  name: true,
  organizationId: true,
  createdAt: true,
  updatedAt: true,
  ...ACCESS_RULE_FIELDS,
} as const;

/** A new project with a platform-unique slug (the one asked for, or a generated `wispy-river-4821`). */
export async function createProject({
  caller,
  organizationId,
  name,
  slug,
}: {
  caller: Caller;
  organizationId: string;
  name: string;
  slug?: string;
}) {
  authorize(caller, organizationId, "projects.write");
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const project = await db.$transaction(async (tx) => {
        await assertProjectLimit(tx, organizationId);
        return tx.project.create({ data: { organizationId, name, slug: slug ?? generateSlug() }, select: PROJECT_FIELDS });
      });
      return withAccess(project);
    } catch (error) {
      if ((error as { code?: string }).code !== "P2002") throw error;
      if (slug) throw new AppError("conflict", `the slug "${slug}" is taken; choose another or leave it out`);
    }
  }
  throw new AppError("conflict", "could not find a free project slug; try again");
}

export async function getProject({ organizationIds, projectId }: { organizationIds: string[]; projectId: string }) {
  const project = await db.project.findFirst({
    where: { id: projectId, organizationId: { in: organizationIds } },
    select: { ...PROJECT_FIELDS, compute: true },
  });
  if (!project) throw notFound("project");
  return withAccess(project);
}

export async function updateProject({
  caller,
  projectId,
  name,
  access,
}: {
  caller: Caller;
  projectId: string;
  name?: string;
  /** Access rules to change (server/projects/access-rules.ts); the proxy sees them within its route cache time. */
  access?: AccessRulesUpdate;
}) {
  const organizationIds = caller.organizationIds;
  const { organizationId } = await getProject({ organizationIds, projectId });
  authorize(caller, organizationId, "projects.write");
  const { count } = await db.project.updateMany({
    where: { id: projectId, organizationId },
    data: { ...(name !== undefined ? { name } : {}), ...accessRulesData(access) },
  });
  if (count === 0) throw notFound("project");
  return getProject({ organizationIds, projectId });
}

/** Delete a project: its compute (workload and data) first, then the project and its roles. */
export async function deleteProject({ caller, projectId }: { caller: Caller; projectId: string }) {
  const project = await getProject({ organizationIds: caller.organizationIds, projectId });
  authorize(caller, project.organizationId, "projects.write");
  if (project.compute) {
    // A compute that another delete removed meanwhile is a 404 here: gone is what this wants.
    await deleteCompute({ actor: { caller }, computeId: project.compute.id, reason: "the project was deleted" }).catch((error: unknown) => {
      if (!(error instanceof AppError && error.code === "not_found")) throw error;
    });
  }
  await db.project.deleteMany({ where: { id: project.id, organizationId: project.organizationId } });
}
