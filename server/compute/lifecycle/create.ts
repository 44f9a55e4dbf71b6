import { db } from "../../db";
import { config } from "../../config";
import { AppError, notFound } from "../../errors";
import { assertMayRun } from "../../billing/may-run";
import { assertColdAfterAllowed } from "../../quotas/idle-rules";
import { assertComputeSizeAllowed } from "../../billing/plan-limits";
import { generateRolePassword, nativePasswordHash } from "../../auth/native-password";
import { DEFAULT_DATABASE, DEFAULT_ROLE } from "@/lib/compute-states";
import type { ComputeSettingsInput } from "@/lib/schemas";
import { authorize, type Caller } from "../../tenancy/caller";
import { defaultDriverName } from "../drivers/registry";
import { getComputeById } from "../find-compute";
import { connectionDetails } from "../connection-details";
import { startAndRecordRunning } from "./finish";

/**
 * Create the project's read-write compute and start it. The project's default role `app` is created with it
 * when missing, and its password is returned here once. A second compute for a project is a 409.
 */
export async function createCompute({
  caller,
  projectId,
  settings,
}: {
  caller: Caller;
  projectId: string;
  settings: ComputeSettingsInput;
}) {
  const actor = caller.actor;
  const project = await db.project.findFirst({
    where: { id: projectId, organizationId: { in: caller.organizationIds } },
    select: { id: true, slug: true, organizationId: true },
  });
  if (!project) throw notFound("project");
  authorize(caller, project.organizationId, "projects.write");
  await assertMayRun(project.organizationId);
  await assertColdAfterAllowed(project.organizationId, settings.coldAfterSeconds);
  await assertComputeSizeAllowed(project.organizationId, settings.size);

  const password = generateRolePassword();
  const cfg = config();
  const leaseUntil = new Date(Date.now() + cfg.TRANSITION_LEASE_SECONDS * 1000);
  let created: { computeId: string; operationId: string; roleCreated: boolean };
  try {
    created = await db.$transaction(async (tx) => {
      const now = new Date();
      const existingRole = await tx.projectRole.findUnique({
        where: { projectId_name: { projectId, name: DEFAULT_ROLE } },
        select: { id: true },
      });
      if (!existingRole) {
        await tx.projectRole.create({ data: { projectId, name: DEFAULT_ROLE, passwordHash: nativePasswordHash(password) } });
        await tx.project.update({ where: { id: projectId }, data: { rolesVersion: { increment: 1 } } });
      }
      const compute = await tx.compute.create({
        data: {
          projectId,
          state: "provisioning",
          driver: defaultDriverName(),
          size: settings.size ?? 0.25,
          suspendTimeoutSeconds: settings.suspendTimeoutSeconds ?? 300,
          coldAfterSeconds: settings.coldAfterSeconds ?? 3600,
          // Validated as PATCH validates them (computeSettingsSchema); absent, the schema's defaults apply.
          ...(settings.parkIdleSessions !== undefined && { parkIdleSessions: settings.parkIdleSessions }),
          ...(settings.parkAfterSeconds !== undefined && { parkAfterSeconds: settings.parkAfterSeconds }),
          ...(settings.poolConnections !== undefined && { poolConnections: settings.poolConnections }),
          leaseUntil,
        },
        select: { id: true, size: true },
      });
      await tx.usageEvent.create({
        data: {
          organizationId: project.organizationId,
          projectId,
          computeId: compute.id,
          state: "provisioning",
          size: compute.size,
          startedAt: now,
        },
      });
      const operation = await tx.operation.create({
        data: {
          organizationId: project.organizationId,
          projectId,
          computeId: compute.id,
          kind: "create_compute",
          actor,
          reason: "created through the API",
          createdAt: now,
        },
        select: { id: true },
      });
      return { computeId: compute.id, operationId: operation.id, roleCreated: !existingRole };
    });
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") {
      throw new AppError("conflict", "this project already has a compute; a project has one read-write compute");
    }
    throw error;
  }

  // The row stands `provisioning` since the transaction above; a failed start is recorded
  // `failed` with its operation, and the reconciler finishes a start this process did not live to finish.
  const provisioned = await getComputeById(created.computeId);
  await startAndRecordRunning({ compute: provisioned, operationId: created.operationId, version: provisioned.version, from: "provisioning" }).catch(() => undefined);
  const compute = await getComputeById(created.computeId);
  if (compute.state !== "running") {
    throw new AppError("unavailable", "the compute could not be started; it is marked failed and can be resumed");
  }
  return {
    compute,
    operationId: created.operationId,
    connection: connectionDetails({
      projectSlug: project.slug,
      role: DEFAULT_ROLE,
      password: created.roleCreated ? password : null,
      database: DEFAULT_DATABASE,
    }),
  };
}
