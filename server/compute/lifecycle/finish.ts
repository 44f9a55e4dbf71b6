import { db, type Compute } from "../../db";
import type { ComputeAddress } from "../address";
import { AppError } from "../../errors";
import { logger } from "../../logger";
import { getDriver } from "../drivers/registry";
import type { DriverState } from "../drivers/types";
import { operationErrorMessage } from "../operation-error";
import { loadComputeSpec } from "../spec";
import { syncRolesIfBehind } from "../sync-roles";
import { finishTransition } from "./transition";

// The second half of every transition, in one place: the compute already stands in its transitional state
// (the caller won that compare-and-set, or claimed it from a replica that died), so this does the work on
// the workload and records where it ended. The verbs call these after beginning a move; the reconciler
// calls them to finish a move whose owner died. Each is idempotent for that reason: a start adopts a
// process that is already up, a stop or a destroy of something gone succeeds.

/** The address columns of a compute that runs nowhere (see ../address.ts). */
export const NO_ADDRESS = { endpointHost: null, endpointPort: null, endpointSocket: null } as const;

/**
 * `provisioning` or `resuming` -> `running`: start the server from the spec read fresh and record it
 * running with its address (TCP endpoint and local socket: readers such as the proxy take it from the row).
 * Returns that address. On error the compute is recorded `failed` and an `unavailable` AppError is thrown.
 * (A paused compute is thawed by wake.ts, without passing through here.)
 */
export async function startAndRecordRunning({
  compute,
  operationId,
  version,
  from,
}: {
  compute: Pick<Compute, "id">;
  operationId: string;
  /** The version the transitional row has now. */
  version: number;
  from: "provisioning" | "resuming";
}): Promise<ComputeAddress> {
  let address: ComputeAddress;
  try {
    const { spec, driver: driverName, driverState, rolesVersion, owner } = await loadComputeSpec(compute.id);
    const driver = getDriver(driverName);
    const started = await driver.start(spec, driverState);
    address = { ...started.endpoint, socketPath: driver.localSocket?.(started.driverState) ?? null };
    await finishTransition({
      computeId: compute.id,
      version,
      from,
      to: "running",
      operationId,
      row: owner,
      data: {
        endpointHost: address.host,
        endpointPort: address.port,
        endpointSocket: address.socketPath,
        driverState: started.driverState as object,
        failureReason: null,
        // A fresh start applied every role of the spec it was given.
        rolesSyncedVersion: rolesVersion,
      },
    });
  } catch (error) {
    const what = from === "provisioning" ? "starting the new compute" : "starting the compute";
    logger.error({ computeId: compute.id, err: error instanceof Error ? error.message : String(error) }, `${what} failed`);
    await finishTransition({
      computeId: compute.id,
      version,
      from,
      to: "failed",
      operationId,
      error: operationErrorMessage(error, what),
      data: { failureReason: "the compute could not be started", ...NO_ADDRESS },
    });
    throw new AppError("unavailable", "the compute could not be started; it is marked failed and can be resumed again");
  }
  // Roles changed while the process was starting are applied now.
  await syncRolesIfBehind(compute.id).catch((error: unknown) =>
    logger.warn({ computeId: compute.id, err: String(error) }, "role sync after start failed"),
  );
  return address;
}

/**
 * `suspending` -> `suspended`: stop the workload (closing user sessions first when `killSessions`: the
 * API's suspend is forced), release its endpoint. On error the compute is recorded `failed` and an
 * `internal` AppError is thrown.
 */
export async function stopAndRecordSuspended({
  compute,
  operationId,
  version,
  killSessions,
}: {
  compute: Pick<Compute, "id" | "driver" | "driverState">;
  operationId: string;
  version: number;
  killSessions: boolean;
}): Promise<void> {
  const driver = getDriver(compute.driver);
  const state = compute.driverState as DriverState | null;
  try {
    if (killSessions) await driver.killUserSessions(compute.id, state).catch(() => undefined);
    await driver.stop(compute.id, state);
    await finishTransition({
      computeId: compute.id,
      version,
      from: "suspending",
      to: "suspended",
      operationId,
      data: { ...NO_ADDRESS, activeConnections: 0 },
    });
  } catch (error) {
    logger.error({ computeId: compute.id, err: error instanceof Error ? error.message : String(error) }, "suspend failed");
    await finishTransition({
      computeId: compute.id,
      version,
      from: "suspending",
      to: "failed",
      operationId,
      error: operationErrorMessage(error, "stopping the compute"),
      data: { failureReason: "the compute could not be stopped cleanly" },
    });
    throw new AppError("internal", "the compute could not be suspended; it is marked failed");
  }
}

/**
 * `deleting` -> gone: destroy the workload and its data, close the books (usage interval, the delete
 * operation: the given one, or whichever a dead replica left running), drop the row. Operations and usage
 * outlive the row (they keep the compute's id), so a bill stays whole.
 */
export async function finishDelete({
  compute,
  operationId,
}: {
  compute: Pick<Compute, "id" | "driver" | "driverState">;
  operationId: string | null;
}): Promise<void> {
  try {
    await getDriver(compute.driver).destroy(compute.id, compute.driverState as DriverState | null);
  } catch (error) {
    logger.error({ computeId: compute.id, err: String(error) }, "destroying the compute failed; the reconciler will retry");
    throw new AppError("internal", "the compute could not be deleted yet; it will be retried");
  }
  const now = new Date();
  await db.$transaction([
    db.usageEvent.updateMany({ where: { computeId: compute.id, endedAt: null }, data: { endedAt: now } }),
    db.operation.updateMany({
      where: operationId ? { id: operationId } : { computeId: compute.id, kind: "delete_compute", status: "running" },
      data: { status: "succeeded", finishedAt: now },
    }),
    db.compute.deleteMany({ where: { id: compute.id, state: "deleting" } }),
  ]);
}
