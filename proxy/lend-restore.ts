import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ClientError } from "./client-error";
import type { Lease } from "./connection-broker";
import type { ProxyContext } from "./context";
import { exchangeOn, followCompute, followOn, passwordStillValid, queryPayload, type Followed } from "./followed-compute";
import { runRestoreStep, type ParkedSession, type Restored } from "./parking-restore";
import { Capability, Command, ErrorCode } from "./protocol/constants";
import type { ParkCapture } from "./session-state/park-capture";
import { restorePlan } from "./session-state/restore-plan";
import type { SessionState } from "./session-state/session-state";
import { StatementIds } from "./session-state/statement-ids";
import { IGNORE_SPACE_AGAIN } from "./server-pool";

// A session without a server connection takes over one another session surrendered (proxy/connection-
// broker.ts). The connection is logged in as the same login and carries its owner's state, which the owner
// captured as it let go (lease.handover). When the two states are the same in everything a client can
// see - database, system variables, character sets and collations, no user variables, no prepared
// statements, no pending transaction characteristics - the connection serves as it is, with at most the
// session's own LAST_INSERT_ID() put back: applications that connect alike (one pool, one settings
// object) pay one short statement, or nothing, to share connections. Otherwise COM_RESET_CONNECTION
// clears the owner's state (variables, user variables, prepared statements, temporary tables, locks) and
// the session's restore plan (proxy/session-state/restore-plan.ts) brings it to the session's, as on
// unparking. Any failure ends the session with a clear error, as a failed unpark does; the connection is
// closed, never lent again half-restored.
//
// What no state tracking reports and neither path restores: the previous statement's warnings, FOUND_ROWS()
// and ROW_COUNT() belong to whichever session ran last on the connection. A client reads them right after
// its own statement, before any safe point lets another session in: between two statements of a session,
// they are the session's own only while it keeps its connection (a transaction does).

const LENT = "this session's server connection was shared while it was idle";

function failure(code: number, sqlState: string, message: string): ClientError {
  return new ClientError(code, sqlState, message, "restore_failed");
}

/** Whether the owner's state on the connection is the taker's in everything a client can see. */
export function sameVisibleState(owner: { state: SessionState; capture: ParkCapture }, taker: ParkedSession): boolean {
  const a = owner.state;
  const b = taker.state;
  if (owner.capture.userVariables.length > 0 || taker.capture.userVariables.length > 0) return false;
  if (a.prepared.size > 0 || b.prepared.size > 0) return false;
  if (a.database !== b.database || a.multiStatements !== b.multiStatements) return false;
  if (a.transactionCharacteristics !== "" || b.transactionCharacteristics !== "") return false;
  if (!sameCollation(a.clientCollation, b.clientCollation)) return false;
  // Empty: never read (a session parked at its login); its first take-over restores in full.
  if (taker.capture.collationConnection === "" || owner.capture.collationConnection !== taker.capture.collationConnection) return false;
  // collation_connection is compared as captured (above): a session restored in full has it among its
  // variables (the restore plan sets it), one that logged in with it has not, and both have the same.
  if (variablesBesides(a, COLLATION) !== variablesBesides(b, COLLATION)) return false;
  for (const [name, value] of a.variables) if (name !== COLLATION && b.variables.get(name) !== value) return false;
  return a.user === b.user;
}

const COLLATION = "collation_connection";
const variablesBesides = (state: SessionState, name: string) => state.variables.size - (state.variables.has(name) ? 1 : 0);

const sameCollation = (x: SessionState["clientCollation"], y: SessionState["clientCollation"]) =>
  x === y || (x !== null && y !== null && x.charset === y.charset && x.collation === y.collation);

export async function restoreOnLease(ctx: ProxyContext, session: ClientSession, parked: ParkedSession, lease: Lease): Promise<Restored> {
  const backend = lease.backend;
  const fail = (error: ClientError): never => {
    backend.compute.socket.destroy();
    throw error;
  };
  const { slug, role } = session.route;
  // The cached route serves: the lease was logged in with the same password hash, and a changed password
  // reaches the cache within its time to live. The route the session already has was checked when it got
  // it, and so was its hash: a take-over within the cache's time to live, or after it with the hash
  // unchanged, costs neither a promise nor a SHA1.
  const target = { slug, role };
  const route = ctx.routes.cached(target) ?? (await ctx.routes.lookup(target));
  const unchanged = route === session.route || (route !== null && route.doubleHash.equals(session.route.doubleHash));
  if (!route || (!unchanged && !passwordStillValid(session.stage1, route.doubleHash))) {
    fail(failure(ErrorCode.ACCESS_DENIED, "28000", `${LENT}, and role '${role}' of project '${slug}' or its password changed meanwhile; reconnect`));
  }
  const handover = lease.handover;
  const same = handover !== null && sameVisibleState(handover, parked);
  ctx.metrics.takeover?.(same ? "same" : "restored");
  if (handover && same) {
    const followed = handover.followed
      ? followOn(handover.followed, parked.state)
      : followCompute({ ...session, route: route! }, backend, parked.state.database, parked.state);
    // The connection serves as it is: the proxy talks to it only to put this session's LAST_INSERT_ID() back.
    if (handover.capture.lastInsertId === parked.capture.lastInsertId) return restored(route!, backend, followed, null, Buffer.alloc(0), lease.loginDatabase);
    const exchange = exchangeOn(backend, followed, ctx.wakeTimeoutMs);
    try {
      await runRestoreStep({ kind: "query", sql: `DO LAST_INSERT_ID(${BigInt(parked.capture.lastInsertId)})` }, exchange, null, false, LENT);
    } catch (error) {
      fail(asFailure(error));
    } finally {
      followed.onReply = null;
    }
    return restored(route!, backend, followed, null, exchange.detach(), lease.loginDatabase);
  }
  const plan = restorePlan(parked.state, parked.capture);
  // The connection keeps its database through the reset: the follower starts from it.
  const followed: Followed = followCompute({ ...session, route: route! }, backend, handover?.state.database ?? null);
  const exchange = exchangeOn(backend, followed, ctx.wakeTimeoutMs);
  const ids = parked.state.prepared.size > 0 ? new StatementIds(parked.state.prepared.keys()) : null;
  try {
    const reset = await exchange.run(Buffer.from([Command.RESET_CONNECTION]));
    if (reset.reply.error) throw new Error(`COM_RESET_CONNECTION failed: ${reset.reply.error.message}`);
    if (backend.capabilities & Capability.IGNORE_SPACE) {
      const again = await exchange.run(queryPayload(IGNORE_SPACE_AGAIN));
      if (again.reply.error) throw new Error(`setting IGNORE_SPACE again failed: ${again.reply.error.message}`);
    }
    for (const step of plan.steps) await runRestoreStep(step, exchange, ids, parked.atLogin === true, LENT);
  } catch (error) {
    fail(asFailure(error));
  } finally {
    followed.onReply = null;
  }
  return restored(route!, backend, followed, ids, exchange.detach(), lease.loginDatabase);
}

function restored(route: ClientSession["route"], backend: BackendSession, followed: Followed, ids: StatementIds | null, leftover: Buffer, loginDatabase: string | null): Restored {
  return { route, backend, followed, ids, leftover, wokeFrom: null, loginDatabase };
}

function asFailure(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  return failure(ErrorCode.UNAVAILABLE, "08S01", `${LENT} and could not be restored (${error instanceof Error ? error.message : String(error)}); reconnect`);
}
