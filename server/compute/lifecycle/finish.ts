import { db, type Compute } from "../../db";
import { isTransitional } from "@/lib/compute-states";
import { runningAddress, type ComputeAddress } from "../address";
import { AppError } from "../../errors";
import { logger } from "../../logger";
import { getDriver } from "../drivers/registry";
import type { ComputeDriver, DriverState, StartHooks } from "../drivers/types";
import { getComputeById } from "../find-compute";
import { operationErrorMessage } from "../operation-error";
import { loadComputeSpec, type LoadedSpec } from "../spec";
import { syncRolesIfBehind } from "../sync-roles";
import { finishStartInOneStatement, finishTransition } from "./transition";

// The second half of every transition, in one place: the compute already stands in its transitional state
// (the caller won that compare-and-set, or claimed it from a replica that died), so this does the work on
// the workload and records where it ended. The verbs call these after beginning a move; the reconciler
// calls them to finish a move whose owner died. Each is idempotent for that reason: a start adopts a
// process that is already up, a stop or a destroy of something gone succeeds.

/** The address columns of a compute that runs nowhere (see ../address.ts). */
export const NO_ADDRESS = { endpointHost: null, endpointPort: null, endpointSocket: null } as const;

/**
 * `provisioning` or `resuming` -> `running`: start the server from the spec (read fresh, unless the move
 * into `resuming` read it: begin-start.ts) and record it running with its address (TCP endpoint and local
 * socket: readers such as the proxy take it from the row), in one statement. Returns that address. On
 * error the compute is recorded `failed` and an `unavailable` AppError is thrown. (A paused compute is
 * thawed by wake.ts, without passing through here.)
 */
export async function startAndRecordRunning({
  compute,
  operationId,
  version,
  from,
  loaded,
  onReady,
  onServing,
  earlierCommitsDurable,
}: {
  compute: Pick<Compute, "id">;
  operationId: string;
  /** The version the transitional row has now. */
  version: number;
  from: "provisioning" | "resuming";
  loaded?: LoadedSpec;
  /** Told where the server takes connections as soon as it answers (see StartHooks). */
  onReady?: StartHooks["onReady"];
  /** Told, with the address onReady heard, once the server is set up, before it is recorded running (see StartHooks). */
  onServing?: (address: ComputeAddress) => void;
  /**
   * Resolves true once the move into this transitional state is on disk (flushBarrier, run beside the
   * start); `running` then commits without waiting for its own flush, and the caller's client gets the
   * server that much sooner. Without it (or false) `running` commits durably.
   */
  earlierCommitsDurable?: Promise<boolean>;
}): Promise<ComputeAddress> {
  let address: ComputeAddress;
  let recorded: { moved: boolean; rolesVersion: number | null };
  let started: { driver: ComputeDriver; driverState: DriverState; rolesVersion: number };
  try {
    const { spec, driver: driverName, driverState, rolesVersion } = loaded ?? (await loadComputeSpec(compute.id));
    const driver = getDriver(driverName);
    let ready: ComputeAddress | null = null;
    const hooks: StartHooks = {
      onReady: (address) => {
        ready = address;
        onReady?.(address);
      },
      onServing: () => {
        if (ready) onServing?.(ready);
      },
    };
    const result = await driver.start(spec, driverState, hooks);
    started = { driver, driverState: result.driverState, rolesVersion };
    address = { ...result.endpoint, socketPath: driver.localSocket?.(result.driverState) ?? null };
    recorded = await finishStartInOneStatement({
      computeId: compute.id,
      version,
      from,
      operationId,
      asyncCommit: (await earlierCommitsDurable) ?? false,
      facts: {
        endpointHost: address.host,
        endpointPort: address.port,
        endpointSocket: address.socketPath,
        driverState: result.driverState as object,
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
  if (!recorded.moved) return startOverruled(compute.id, started);
  // Roles changed while the process was starting are applied now (the statement read the version after).
  if (recorded.rolesVersion !== null && recorded.rolesVersion > started.rolesVersion) {
    await syncRolesIfBehind(compute.id).catch((error: unknown) =>
      logger.warn({ computeId: compute.id, err: String(error) }, "role sync after start failed"),
    );
  }
  return address;
}

/**
 * The start's compare-and-set to `running` did not match: someone else moved the compute while it started
 * (a replica that took the transition over once our lease ran out, a delete), or PostgreSQL lost the
 * asynchronous commit of the move into `resuming` in a crash (begin-start.ts) and the row is back where it
 * was. A row that runs (our server, adopted) is fine; a row nobody is moving and that does not run must not
 * keep the server this start made: it is stopped. Either way this caller does not own the start any more.
 */
async function startOverruled(computeId: string, started: { driver: ComputeDriver; driverState: DriverState }): Promise<ComputeAddress> {
  const row = await getComputeById(computeId).catch(() => null);
  const address = row ? runningAddress(row) : null;
  if (address) return address;
  logger.warn({ computeId, state: row?.state ?? "gone" }, "the compute was moved by someone else while it started");
  if (row && !isTransitional(row.state)) {
    await started.driver.stop(computeId, started.driverState).catch((error: unknown) => logger.error({ computeId, err: String(error) }, "stopping an overruled start failed"));
  }
  throw new AppError("unavailable", "the compute was changed by another process while it started; try again in a moment");
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
