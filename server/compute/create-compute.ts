import { db } from "../db";
import { config } from "../config";
import { AppError, notFound } from "../errors";
import { logger } from "../logger";
import { assertComputeQuota } from "../quotas/quotas";
import { assertColdAfterAllowed } from "../quotas/idle-rules";
import { generateRolePassword, nativePasswordHash } from "../auth/native-password";
import { DEFAULT_DATABASE, DEFAULT_ROLE } from "@/lib/compute-states";
import type { ComputeSettingsInput } from "@/lib/schemas";
import { defaultDriverName, getDriver } from "./drivers/registry";
import { operationErrorMessage } from "./operation-error";
import { getComputeById } from "./find-compute";
import { loadComputeSpec } from "./spec";
import { finishTransition } from "./transition";
import { connectionDetails } from "./connection-details";
import { authorize, type Caller } from "../tenancy/caller";

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
  await assertComputeQuota(project.organizationId);
  await assertColdAfterAllowed(project.organizationId, settings.coldAfterSeconds);

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

  await startProvisioned(created.computeId, created.operationId);
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

/** provisioning -> running (or failed). The reconciler calls it again for a compute stuck provisioning. */
export async function startProvisioned(computeId: string, operationId: string): Promise<void> {
  const { spec, driver, driverState } = await loadComputeSpec(computeId);
  const row = await db.compute.findUniqueOrThrow({
    where: { id: computeId },
    select: { version: true, project: { select: { rolesVersion: true } } },
  });
  try {
    const started = await getDriver(driver).start(spec, driverState);
    await finishTransition({
      computeId,
      version: row.version,
      from: "provisioning",
      to: "running",
      operationId,
      data: {
        endpointHost: started.endpoint.host,
        endpointPort: started.endpoint.port,
        driverState: started.driverState as object,
        rolesSyncedVersion: row.project.rolesVersion,
      },
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const message = operationErrorMessage(error, "starting the new compute");
    logger.error({ computeId, err: detail }, "provisioning failed");
    await finishTransition({
      computeId,
      version: row.version,
      from: "provisioning",
      to: "failed",
      operationId,
      error: message,
      data: { failureReason: "the compute could not be started" },
    });
  }
}
