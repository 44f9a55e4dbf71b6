import { db, Prisma } from "../../db";
import { assertMayRunAfterRefusal, mayRunCtes, type MayRunFacts } from "../../billing/may-run";
import { specOf, type LoadedSpec, type SpecColumns } from "../spec";
import { ASYNC_COMMIT_CTE, moveCtes, type BeginInput } from "./transition";

// The first half of a cold start (suspended or failed -> resuming) as one SQL statement: the quota check,
// the compare-and-set with its usage interval and operation, and the spec the driver starts from (the
// compute, its project, plan and roles). It was eleven statements on a cold wake's path (quota 4, spend
// cap 1, move 1, spec 4, each a round trip), and the move's durable commit.
//
// That commit is asynchronous (`synchronous_commit = off` for this statement only; PostgreSQL's promise: a
// crash can lose the last such commits but never leaves the database inconsistent): the compare-and-set is
// decided and visible to every other writer as usual, only its flush to disk is not waited for. The caller
// then waits for that flush beside the server's start (flushBarrier in transition.ts, wake.ts), so the move
// is on disk before `running` is recorded, itself asynchronously. If PostgreSQL crashes before the flush,
// the move may be lost: the row is back at `suspended` while a server is being started. The finishing
// compare-and-set then fails and the start stops the server it made (finish.ts); if the control plane is
// down too, the server stays up unbilled until the compute's next start adopts it (a start adopts the
// running server of its data). A lost `running` leaves the row `resuming`: see "The lifecycle core" in
// README.md.

export interface BeganStart {
  operationId: string;
  loaded: LoadedSpec;
}

/** The statement's row: the quota facts, the spec's columns, and the move's operation (null: not moved). */
interface Row extends Omit<MayRunFacts, "plan">, SpecColumns {
  operationId: string | null;
  quotaOk: boolean;
}

/**
 * Move the compute into `resuming` for a start and read what the start needs, in one statement. With
 * `checkQuota`, the move is made only while the organization may run a compute (throws the quota's or the
 * spend cap's refusal otherwise). Null when another writer moved the compute first, or it is gone.
 */
export async function beginStart(input: BeginInput & { to: "resuming"; checkQuota: boolean }): Promise<BeganStart | null> {
  let capChecked = false;
  for (;;) {
    const guard = !input.checkQuota
      ? Prisma.sql`TRUE`
      : capChecked
        ? Prisma.sql`(SELECT quota_ok FROM may_run)`
        : Prisma.sql`(SELECT quota_ok AND uncapped FROM may_run)`;
    const move = moveCtes(input, null, guard);
    const [row] = await db.$queryRaw<Row[]>`
      WITH ${ASYNC_COMMIT_CTE},
      ${mayRunCtes(input.computeId)},
      ${move.ctes}
      SELECT (SELECT id FROM op) AS "operationId", (SELECT quota_ok FROM may_run) AS "quotaOk",
             t."organizationId", t.plan, t."cuHoursQuota", t."spendCapUsd", COALESCE((SELECT used FROM used LIMIT 1), 0) AS "usedCuSeconds",
             c.id, c."projectId", c.size, c.driver, c."driverState", p.slug, p."rolesVersion",
             (SELECT COALESCE(json_agg(json_build_object('name', r.name, 'passwordHash', r."passwordHash") ORDER BY r.name), '[]'::json)
              FROM "ProjectRole" r WHERE r."projectId" = p.id) AS roles
      FROM async_commit, terms t, "Compute" c JOIN "Project" p ON p.id = c."projectId"
      WHERE c.id = ${input.computeId}`;
    if (!row) return null; // deleted meanwhile
    if (row.operationId) return { operationId: row.operationId, loaded: specOf(row) };
    if (!input.checkQuota || (row.quotaOk && (capChecked || row.spendCapUsd === null))) return null; // lost the race
    await assertMayRunAfterRefusal(row);
    capChecked = true; // a cap not reached yet: move without its condition
  }
}
