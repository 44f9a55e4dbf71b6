import type { Compute } from "../../db";
import type { QuotaTerms } from "../../quotas/quotas";
import { AppError } from "../../errors";
import { logger } from "../../logger";
import type { OperationKind } from "../../db/generated/enums";
import { recordedAddress, runningAddress, type ComputeAddress } from "../address";
import { getDriver } from "../drivers/registry";
import type { DriverState, StartHooks } from "../drivers/types";
import { getComputeById } from "../find-compute";
import { syncRolesIfBehind } from "../sync-roles";
import { startAndRecordRunning } from "./finish";
import { reconcileCompute } from "./reconcile";
import { beginStart } from "./begin-start";
import { flushBarrier, instantTransition } from "./transition";

// The first half of a wake, shared by the verbs that bring a compute to `running` from where it stands:
// resume (paused, suspended, failed), pause undoing itself (paused), a size change (running: a restart).
//
// Two paths. A paused compute is thawed: one compare-and-set paused -> running (with its operation and
// usage interval, one statement) while the driver lets the frozen process go; no quota check (a thaw
// starts nothing new: the quota is checked when a compute goes cold -> running) and no roles work unless
// the project's roles changed since the compute last applied them. Anything else is started: the quota
// check, the compare-and-set into `resuming` and the read of the spec in one statement (begin-start.ts),
// then the start and `running` recorded with its address in another (finish.ts).

/**
 * Facts about the compute's project that a caller may hold already, read with the row (the proxy's route
 * look-up): with them a thaw reads nothing before its compare-and-set. (A start reads the quota's terms
 * afresh in its one statement; the plan and quota figure stay here for callers that pass them.)
 */
export interface WakeContext extends QuotaTerms {
  organizationId: string;
  /** The project's roles version; behind it, the compute's roles are synced after a thaw. */
  rolesVersion: number;
}

/** The columns of a compute row a wake decides and acts on (the proxy's route look-up reads just these). */
export type WakeRow = Pick<
  Compute,
  | "id"
  | "projectId"
  | "state"
  | "version"
  | "size"
  | "driver"
  | "driverState"
  | "endpointHost"
  | "endpointPort"
  | "endpointSocket"
  | "rolesSyncedVersion"
  | "failureReason"
>;

export interface WakeOptions {
  actor: string;
  reason: string | null;
  /** restart_compute for a restart (a size change); resume_compute otherwise. */
  kind?: OperationKind;
  /** Undoing a pause or restarting a running compute is not a new wake: no quota check. */
  skipQuotaCheck?: boolean;
  /** Bill the `resuming` interval at this size instead of the compute's (a restart for a size change). */
  usageSize?: number;
  /** A start tells where its server takes connections as soon as it answers (a waiting client logs in then). */
  onReady?: StartHooks["onReady"];
  /**
   * Told where the server this wake brings up serves, before the wake's last statement is known to have
   * committed: a thaw once it has let the frozen server go (SIGCONT sent, the process no longer stopped;
   * the address its row records), before its compare-and-set comes back; a start once the new server is set
   * up, before `running` is recorded. A client logged in to that server may go on (the proxy then checks the
   * wake's outcome, and ends its session if the wake did not end with that server running).
   */
  onServing?: (address: ComputeAddress | null) => void;
  /**
   * A thaw sends its compare-and-set once this settles (at most THAW_COMMIT_WAIT_MS after the SIGCONT): the
   * proxy passes the login it made to the frozen server and the answer to the client's first command, which
   * go on before the commit (onServing). Sent with the SIGCONT, the statement's work in PostgreSQL and in
   * the proxy competed with the thawed server for the CPU and held its first answers back: on 2 cores a warm
   * wake's login took 3.5 ms from the client's handshake to its OK, 2.4 ms with the statement sent once the
   * login was answered; and the whole wake (connect -> first answer, bench:proxy) took 4.5-5.1 ms with the
   * statement sent after the login, 3.2-3.3 ms with it sent after the first answer.
   */
  commitAfter?: Promise<unknown>;
}

/** How long a thaw's compare-and-set waits for WakeOptions.commitAfter at most. */
const THAW_COMMIT_WAIT_MS = 10;

export interface Woken {
  operationId: string;
  /** The paused process this caller read was let go (not a new process: a start, or a restart after a crash). */
  thawed: boolean;
  /** Where the compute now takes connections (null only if a thawed row had no endpoint recorded). */
  address: ComputeAddress | null;
}

/**
 * Win the compare-and-set out of the row's state (as read) and bring the compute to `running`. Returns the
 * operation and the address, or null when another writer moved the compute first (the caller reads again
 * and decides again).
 */
export async function wakeFrom(compute: WakeRow, options: WakeOptions, context?: WakeContext): Promise<Woken | null> {
  return compute.state === "paused" ? thaw(compute, options, context) : start(compute, options);
}

async function thaw(compute: WakeRow, options: WakeOptions, context?: WakeContext): Promise<Woken | null> {
  // The SIGCONT goes out while the compare-and-set commits: the client waits for the longer of the two, not
  // their sum. Letting a frozen process go is harmless whoever wins: another thaw sends the same signal, a
  // move to cold or a delete stops the process anyway (after a SIGCONT of its own), and a pause that froze
  // it meanwhile sees the version moved and thaws it again (pause.ts).
  const unpaused = getDriver(compute.driver)
    .unpause(compute.id, compute.driverState as DriverState | null)
    .then(
      () => {
        options.onServing?.(recordedAddress(compute));
        return null;
      },
      (error: unknown) => error,
    );
  // The SIGCONT first: the driver's steps up to it take microtasks only (its /proc reads are synchronous),
  // and they run before this turn of the event loop ends; building the statement is CPU work that would
  // otherwise come first. Then, for a caller with a login waiting on the thawed server, that login's answer.
  if (options.commitAfter) await settledWithin(options.commitAfter, THAW_COMMIT_WAIT_MS);
  else await new Promise((resolve) => setImmediate(resolve));
  // Its commit is not waited for on disk (asyncCommit): the compare-and-set is decided, and seen by every
  // other writer, as usual; only a PostgreSQL crash in the next fraction of a second could lose it, leaving
  // the row `paused` (and its usage interval unbilled) while the process runs. The reconciler repairs that
  // at its next look: a paused row whose process runs with sessions is recorded running, one without
  // sessions is frozen again (reconcile.ts), and nothing stops a compute it finds running (suspend.ts).
  const operationId = await instantTransition({
    computeId: compute.id,
    version: compute.version,
    from: "paused",
    to: "running",
    kind: options.kind ?? "resume_compute",
    actor: options.actor,
    reason: options.reason,
    asyncCommit: true,
  });
  const thawFailed = await unpaused;
  if (!operationId) return null;
  if (thawFailed) {
    // The frozen process is gone: the row says running, so this is a crash, and the reconciler's crash
    // handling restarts it (now, for the caller waiting on it; or marks it failed after repeated ones).
    logger.warn({ computeId: compute.id, err: String(thawFailed) }, "thawing the compute failed; restarting it");
    await reconcileCompute(compute.id);
    const address = runningAddress(await getComputeById(compute.id));
    if (!address) throw new AppError("unavailable", "the compute could not be started; it is marked failed and can be resumed again");
    return { operationId, address, thawed: false };
  }
  if (!context || context.rolesVersion > compute.rolesSyncedVersion) {
    // Roles changed while the process was frozen are applied now (a caller without the versions looks).
    await syncRolesIfBehind(compute.id).catch((error: unknown) =>
      logger.warn({ computeId: compute.id, err: String(error) }, "role sync after thaw failed"),
    );
  }
  return { operationId, address: runningAddress({ ...compute, state: "running" }), thawed: true };
}

/** Resolves when `promise` settles, or after `ms` at most; never rejects. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

async function start(compute: WakeRow, options: WakeOptions): Promise<Woken | null> {
  // Starting costs compute time: refused once the month's quota is used or the spend cap is reached. The
  // check, the move into `resuming` and the read of the spec are one statement (begin-start.ts).
  const began = await beginStart({
    computeId: compute.id,
    version: compute.version,
    from: compute.state,
    to: "resuming",
    kind: options.kind ?? "resume_compute",
    actor: options.actor,
    reason: options.reason,
    usageSize: options.usageSize,
    checkQuota: !options.skipQuotaCheck,
  });
  if (!began) return null;
  const address = await startAndRecordRunning({
    compute,
    operationId: began.operationId,
    version: compute.version + 1,
    from: "resuming",
    loaded: began.loaded,
    onReady: options.onReady,
    onServing: options.onServing,
    // The move's asynchronous commit is flushed while the server starts; `running` then commits
    // asynchronously too (what a crash can lose and how it is repaired: "The lifecycle core" in README.md).
    earlierCommitsDurable: flushBarrier(),
  });
  return { operationId: began.operationId, address, thawed: false };
}
