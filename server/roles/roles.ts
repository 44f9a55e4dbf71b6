import { db } from "../db";
import { AppError, notFound } from "../errors";
import { logger } from "../logger";
import { generateRolePassword, nativePasswordHash } from "../auth/native-password";
import { syncRolesIfBehind } from "../compute/sync-roles";
import { connectionDetails } from "../compute/connection-details";
import { DEFAULT_DATABASE } from "@/lib/compute-states";

// Project roles are MariaDB accounts. The control plane keeps only their native-password hash; a new role
// or a reset answers with the password once. A running compute gets the change at once, any other at its
// next start (rolesVersion vs the compute's rolesSyncedVersion).

const ROLE_FIELDS = { id: true, name: true, createdAt: true, updatedAt: true } as const;

async function scopedProject(organizationIds: string[], projectId: string) {
  const project = await db.project.findFirst({
    where: { id: projectId, organizationId: { in: organizationIds } },
    select: { id: true, slug: true, compute: { select: { id: true } } },
  });
  if (!project) throw notFound("project");
  return project;
}

async function applyToCompute(computeId: string | undefined) {
  if (!computeId) return;
  await syncRolesIfBehind(computeId).catch((error: unknown) =>
    // The compute will pick the change up at its next start or reconcile; the role is stored.
    logger.warn({ computeId, err: String(error) }, "applying roles to the running compute failed"),
  );
}

export async function listRoles({ organizationIds, projectId }: { organizationIds: string[]; projectId: string }) {
  const project = await scopedProject(organizationIds, projectId);
  return db.projectRole.findMany({ where: { projectId: project.id }, orderBy: { name: "asc" }, select: ROLE_FIELDS });
}

export async function createRole({
  organizationIds,
  projectId,
  name,
}: {
  organizationIds: string[];
  projectId: string;
  name: string;
}) {
  const project = await scopedProject(organizationIds, projectId);
  const password = generateRolePassword();
  let role;
  try {
    role = await db.$transaction(async (tx) => {
      const created = await tx.projectRole.create({
        data: { projectId: project.id, name, passwordHash: nativePasswordHash(password) },
        select: ROLE_FIELDS,
      });
      await tx.project.update({ where: { id: project.id }, data: { rolesVersion: { increment: 1 } } });
      return created;
    });
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") throw new AppError("conflict", `the role "${name}" already exists`);
    throw error;
  }
  await applyToCompute(project.compute?.id);
  return { role, password, connection: connectionDetails({ projectSlug: project.slug, role: name, password, database: DEFAULT_DATABASE }) };
}

export async function resetRolePassword({
  organizationIds,
  projectId,
  name,
}: {
  organizationIds: string[];
  projectId: string;
  name: string;
}) {
  const project = await scopedProject(organizationIds, projectId);
  const password = generateRolePassword();
  const role = await db.$transaction(async (tx) => {
    const { count } = await tx.projectRole.updateMany({
      where: { projectId: project.id, name },
      data: { passwordHash: nativePasswordHash(password) },
    });
    if (count === 0) throw notFound("role");
    await tx.project.update({ where: { id: project.id }, data: { rolesVersion: { increment: 1 } } });
    return tx.projectRole.findUniqueOrThrow({ where: { projectId_name: { projectId: project.id, name } }, select: ROLE_FIELDS });
  });
  await applyToCompute(project.compute?.id);
  return { role, password, connection: connectionDetails({ projectSlug: project.slug, role: name, password, database: DEFAULT_DATABASE }) };
}

/** Remove a role: its MariaDB account is dropped on the running compute at once, on any other at its next start. */
export async function deleteRole({ organizationIds, projectId, name }: { organizationIds: string[]; projectId: string; name: string }) {
  const project = await scopedProject(organizationIds, projectId);
  await db.$transaction(async (tx) => {
    const { count } = await tx.projectRole.deleteMany({ where: { projectId: project.id, name } });
    if (count === 0) throw notFound("role");
    await tx.project.update({ where: { id: project.id }, data: { rolesVersion: { increment: 1 } } });
  });
  await applyToCompute(project.compute?.id);
}
