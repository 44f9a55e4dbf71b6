import crypto from "node:crypto";
import { db, Prisma, queryPool, type Compute } from "../../db";
import { utcTimestamp } from "../../db/sql";
import { config } from "../../config";
import { AppError } from "../../errors";
import { canTransition, isTransitional, type ComputeStateName } from "@/lib/compute-states";
import type { OperationKind } from "../../db/generated/enums";

// Every state change of a compute is one compare-and-set on (state, version) plus the bookkeeping that must
// never disagree with it: the usage interval it closes and opens, and the operation it begins or ends. All of
// it commits in one transaction, so two replicas racing for the same compute cannot both win. This is the
// bottom of the lifecycle (see "The lifecycle core" in README.md): it imports no other lifecycle module.

type Tx = Prisma.TransactionClient;

export interface TransitionInput {
  computeId: string;
  /** The version the caller read; the update only applies if nobody moved the compute since. */
  version: number;
  from: ComputeStateName;
  to: ComputeStateName;
  /** Other columns to set with the state (endpoint, driverState, ...). */
  data?: Prisma.ComputeUpdateManyMutationInput;
}

export interface BeginInput extends TransitionInput {
  kind: OperationKind;
  actor: string;
  reason: string | null;
  /** The size the interval this move opens is billed at, when not the compute's own (apply-size.ts). */
  usageSize?: number;
  /**
   * Commit without waiting for the flush to disk (`synchronous_commit = off` for this statement only: a
   * PostgreSQL crash may lose it, never makes the database inconsistent). Only for moves whose loss the
   * reconciler repairs: the thaw (wake.ts) and the move into `resuming` (begin-start.ts).
   */
  asyncCommit?: boolean;
}

/**
 * A CTE that makes the statement's commit asynchronous (see BeginInput.asyncCommit). A CTE that is a plain
 * SELECT runs only when referenced: the statement's final SELECT names `async_commit` in its FROM list.
 */
export const ASYNC_COMMIT_CTE = Prisma.sql`async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)`;

interface ComputeRowForTransition {
  id: string;
  projectId: string;
  size: number;
  organizationId: string;
}

async function casState(tx: Tx, input: TransitionInput, now: Date): Promise<boolean> {
  if (!canTransition(input.from, input.to)) {
    throw new Error(`refused transition ${input.from} -> ${input.to}`);
  }
  const lease = isTransitional(input.to) ? transitionLease(now.getTime()) : null;
  const { count } = await tx.compute.updateMany({
    where: { id: input.computeId, state: input.from, version: input.version },
    data: {
      ...input.data,
      state: input.to,
      version: { increment: 1 },
      leaseUntil: lease,
      enteredStateAt: now,
      ...(input.to === "running" ? { stateChangedAt: now } : {}),
    },
  });
  return count === 1;
}

/** Close the compute's open usage interval and open one for its new state (none once it is gone). */
async function recordUsage(
  tx: Tx,
  compute: ComputeRowForTransition,
  to: ComputeStateName | null,
  now: Date,
  size = compute.size,
) {
  await tx.usageEvent.updateMany({ where: { computeId: compute.id, endedAt: null }, data: { endedAt: now } });
  if (to === null) return;
  await tx.usageEvent.create({
    data: {
      organizationId: compute.organizationId,
      projectId: compute.projectId,
      computeId: compute.id,
      state: to,
      size,
      startedAt: now,
    },
  });
}

async function loadForTransition(tx: Tx, computeId: string): Promise<ComputeRowForTransition> {
  const row = await tx.compute.findUnique({
    where: { id: computeId },
    select: { id: true, projectId: true, size: true, project: { select: { organizationId: true } } },
  });
  if (!row) throw new AppError("not_found", "compute not found");
  return { id: row.id, projectId: row.projectId, size: row.size, organizationId: row.project.organizationId };
}

export type Finished = { status: "succeeded" | "failed"; error: string | null } | null;

/**
 * A move that sets no other columns, as the data-modifying CTEs of one SQL statement (`moved`, `closed`,
 * `opened`, `op`): one round trip and one commit instead of an interactive transaction's seven or eight (on
 * a busy machine each round trip costs milliseconds, and this is the warm wake's whole bookkeeping). The
 * parts all see the statement's snapshot, so closing the open usage interval never sees the one it opens,
 * and nothing is written unless the compare-and-set matched (and `guard`, an SQL condition that CTEs
 * named before these may supply: the cold start's quota check, begin-start.ts).
 */
export function moveCtes(input: BeginInput, finished: Finished, guard: Prisma.Sql = Prisma.sql`TRUE`): { ctes: Prisma.Sql; operationId: string } {
  if (!canTransition(input.from, input.to)) throw new Error(`refused transition ${input.from} -> ${input.to}`);
  const now = new Date();
  const at = utcTimestamp(now);
  const lease = isTransitional(input.to) ? utcTimestamp(transitionLease(now.getTime())) : Prisma.sql`NULL`;
  const stateChangedAt = input.to === "running" ? at : Prisma.sql`"stateChangedAt"`;
  const size = input.usageSize === undefined ? Prisma.sql`size` : Prisma.sql`${input.usageSize}::float8`;
  const operationId = crypto.randomUUID();
  const ctes = Prisma.sql`
    moved AS (
      UPDATE "Compute"
      SET state = ${input.to}::"ComputeState", version = version + 1, "leaseUntil" = ${lease},
          "enteredStateAt" = ${at}, "stateChangedAt" = ${stateChangedAt}, "updatedAt" = ${at}
      WHERE id = ${input.computeId} AND state = ${input.from}::"ComputeState" AND version = ${input.version} AND (${guard})
      RETURNING id, "projectId", ${size} AS size,
                (SELECT "organizationId" FROM "Project" WHERE "Project".id = "Compute"."projectId") AS "organizationId"
    ), closed AS (
      UPDATE "UsageEvent" SET "endedAt" = ${at} WHERE "computeId" IN (SELECT id FROM moved) AND "endedAt" IS NULL
    ), opened AS (
      INSERT INTO "UsageEvent" (id, "organizationId", "projectId", "computeId", state, size, "startedAt")
      SELECT ${crypto.randomUUID()}, "organizationId", "projectId", id, ${input.to}::"ComputeState", size, ${at} FROM moved
    ), op AS (
      INSERT INTO "Operation" (id, "organizationId", "projectId", "computeId", kind, status, reason, actor, error, "createdAt", "finishedAt")
      SELECT ${operationId}, "organizationId", "projectId", id, ${input.kind}::"OperationKind",
             ${finished?.status ?? "running"}::"OperationStatus", ${input.reason}, ${input.actor}, ${finished?.error ?? null}, ${at},
             ${finished ? at : Prisma.sql`NULL`}
      FROM moved
      RETURNING id
    )`;
  return { ctes, operationId };
}

async function moveInOneStatement(input: BeginInput, finished: Finished): Promise<string | null> {
  const { ctes, operationId } = moveCtes(input, finished);
  const moved = await queryPool<{ id: string }>(
    input.asyncCommit ? Prisma.sql`WITH ${ASYNC_COMMIT_CTE}, ${ctes} SELECT id FROM op, async_commit` : Prisma.sql`WITH ${ctes} SELECT id FROM op`,
  );
  return moved.length === 1 ? operationId : null;
}

/**
 * The compare-and-set, the usage interval it opens and the operation it records, in one transaction; the
 * operation is left running, or (`finished`) recorded as done at once. Null when another writer got there
 * first.
 */
async function moveWithOperation(input: BeginInput, finished: Finished): Promise<string | null> {
  if (!canTransition(input.from, input.to)) throw new Error(`refused transition ${input.from} -> ${input.to}`);
  if (!input.data) return moveInOneStatement(input, finished);
  return db.$transaction(async (tx) => {
    const now = new Date();
    if (!(await casState(tx, input, now))) return null;
    const compute = await loadForTransition(tx, input.computeId);
    await recordUsage(tx, compute, input.to, now, input.usageSize);
    const operation = await tx.operation.create({
      data: {
        organizationId: compute.organizationId,
        projectId: compute.projectId,
        computeId: compute.id,
        kind: input.kind,
        actor: input.actor,
        reason: input.reason,
        createdAt: now,
        ...(finished ? { ...finished, finishedAt: now } : {}),
      },
      select: { id: true },
    });
    return operation.id;
  });
}

/**
 * Move the compute and begin an operation for the move. Returns the operation's id, or null when another
 * writer got there first (the caller re-reads and decides again).
 */
export function beginTransition(input: BeginInput): Promise<string | null> {
  return moveWithOperation(input, null);
}

/**
 * Move the compute and end the operation that the move completes. Returns false when the compute was moved
 * by someone else meanwhile (e.g. the reconciler after our lease ran out); the operation is then failed.
 */
export async function finishTransition(
  input: TransitionInput & { operationId: string; error?: string | null },
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const moved = await casState(tx, input, now);
    if (moved) await recordUsage(tx, await loadForTransition(tx, input.computeId), input.to, now);
    const failed = !moved || Boolean(input.error) || input.to === "failed";
    await tx.operation.update({
      where: { id: input.operationId },
      data: {
        status: failed ? "failed" : "succeeded",
        error: input.error ?? (moved ? null : "the compute was changed by another process meanwhile"),
        finishedAt: now,
      },
    });
    return moved;
  });
}

/** Where a started compute runs, as `running` records it (finish.ts). */
export interface RunningFacts {
  endpointHost: string;
  endpointPort: number;
  endpointSocket: string | null;
  driverState: object;
  /** The roles version the start applied. */
  rolesSyncedVersion: number;
}

/**
 * `provisioning` or `resuming` -> `running` with the started server's facts, closing the operation, in one
 * SQL statement (an interactive transaction was six round trips on the cold wake's path). Answers whether
 * the compare-and-set matched (if not, the operation is failed: someone else moved the compute meanwhile),
 * and the project's roles version now, so that roles changed during the start are applied only then.
 */
export async function finishStartInOneStatement(input: {
  computeId: string;
  version: number;
  from: "provisioning" | "resuming";
  operationId: string;
  facts: RunningFacts;
  /**
   * Commit without waiting for the flush (see BeginInput.asyncCommit). Only once the move into `resuming`
   * is known durable (flushBarrier): a lost commit then leaves the row `resuming` with a lease, which the
   * reconciler finishes by adopting the running server; never `suspended` under a running server.
   */
  asyncCommit?: boolean;
}): Promise<{ moved: boolean; rolesVersion: number | null }> {
  if (!canTransition(input.from, "running")) throw new Error(`refused transition ${input.from} -> running`);
  const at = utcTimestamp(new Date());
  const { facts } = input;
  const asyncCommit = input.asyncCommit ? Prisma.sql`${ASYNC_COMMIT_CTE},` : Prisma.empty;
  const fromAsyncCommit = input.asyncCommit ? Prisma.sql`FROM async_commit` : Prisma.empty;
  const rows = await db.$queryRaw<{ moved: boolean; rolesVersion: number | null }[]>`
    WITH ${asyncCommit} moved AS (
      UPDATE "Compute"
      SET state = 'running', version = version + 1, "leaseUntil" = NULL, "enteredStateAt" = ${at}, "stateChangedAt" = ${at},
          "updatedAt" = ${at}, "endpointHost" = ${facts.endpointHost}, "endpointPort" = ${facts.endpointPort},
          "endpointSocket" = ${facts.endpointSocket}, "driverState" = ${JSON.stringify(facts.driverState)}::jsonb,
          "failureReason" = NULL, "rolesSyncedVersion" = ${facts.rolesSyncedVersion}
      WHERE id = ${input.computeId} AND state = ${input.from}::"ComputeState" AND version = ${input.version}
      RETURNING id, "projectId", size,
                (SELECT "organizationId" FROM "Project" WHERE "Project".id = "Compute"."projectId") AS "organizationId"
    ), closed AS (
      UPDATE "UsageEvent" SET "endedAt" = ${at} WHERE "computeId" IN (SELECT id FROM moved) AND "endedAt" IS NULL
    ), opened AS (
      INSERT INTO "UsageEvent" (id, "organizationId", "projectId", "computeId", state, size, "startedAt")
      SELECT ${crypto.randomUUID()}, "organizationId", "projectId", id, 'running', size, ${at} FROM moved
    ), done AS (
      UPDATE "Operation"
      SET status = CASE WHEN EXISTS (SELECT 1 FROM moved) THEN 'succeeded' ELSE 'failed' END::"OperationStatus",
          error = CASE WHEN EXISTS (SELECT 1 FROM moved) THEN NULL ELSE 'the compute was changed by another process meanwhile' END,
          "finishedAt" = ${at}
      WHERE id = ${input.operationId}
    )
    SELECT EXISTS (SELECT 1 FROM moved) AS moved,
           (SELECT p."rolesVersion" FROM "Compute" c JOIN "Project" p ON p.id = c."projectId" WHERE c.id = ${input.computeId}) AS "rolesVersion"
    ${fromAsyncCommit}`;
  return { moved: rows[0]?.moved ?? false, rolesVersion: rows[0]?.rolesVersion ?? null };
}

/**
 * Wait until every commit made before this call is on disk, asynchronous ones included: a statement that
 * takes a transaction id commits durably, and a durable commit flushes all WAL written before it. The cold
 * start runs it beside the server's start, after the asynchronous move into `resuming` (begin-start.ts), so
 * that the move is durable before `running` commits asynchronously. False when it failed (then `running`
 * commits durably).
 */
export function flushBarrier(): Promise<boolean> {
  return db.$queryRaw`SELECT txid_current()`.then(
    () => true,
    () => false,
  );
}

/** A one-step move with its own operation that is finished at once (pause, a crash noticed, ...). */
export function instantTransition(input: BeginInput & { error?: string | null }): Promise<string | null> {
  const failed = Boolean(input.error) || input.to === "failed";
  return moveWithOperation(input, { status: failed ? "failed" : "succeeded", error: input.error ?? null });
}

function transitionLease(now = Date.now()): Date {
  return new Date(now + config().TRANSITION_LEASE_SECONDS * 1000);
}

/** Whether the replica that began this row's transition has had its time (it died, or it is stuck). */
export function leaseExpired(compute: Pick<Compute, "leaseUntil">): boolean {
  return !compute.leaseUntil || compute.leaseUntil.getTime() < Date.now();
}

/**
 * Take over a transition whose owner's lease ran out: a compare-and-set that renews the lease and bumps
 * the version, so of several takers exactly one carries on. Returns the row as claimed, or null.
 */
export async function claimTransition(compute: Compute): Promise<Compute | null> {
  if (!leaseExpired(compute)) return null;
  const leaseUntil = transitionLease();
  const { count } = await db.compute.updateMany({
    where: { id: compute.id, state: compute.state, version: compute.version },
    data: { version: { increment: 1 }, leaseUntil },
  });
  return count === 1 ? { ...compute, version: compute.version + 1, leaseUntil } : null;
}
