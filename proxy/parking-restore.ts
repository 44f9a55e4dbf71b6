import type { attachCompute, ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ClientError } from "./client-error";
import type { ProxyContext } from "./context";
import { exchangeOn, followCompute, passwordStillValid, queryPayload, withSessionTracking, type Followed } from "./followed-compute";
import { Capability, Command, ErrorCode, ServerStatus } from "./protocol/constants";
import type { ParkCapture } from "./session-state/park-capture";
import { restorePlan, type RestoreStep } from "./session-state/restore-plan";
import { SessionState } from "./session-state/session-state";
import { StatementIds } from "./session-state/statement-ids";

// Unparking: the next command on a parked session wakes its compute (the one-wake-per-herd path of
// attach.ts), logs in as the session's role without a database, and runs the restore plan, consuming the
// replies (each through a new follower, so the restored session is followed like the first). Any failure
// is a RestoreFailure that names what failed and what to do; the caller answers the client's command with
// it and ends the session: nothing runs with part of the state.

export interface ParkedSession {
  state: SessionState;
  capture: ParkCapture;
  /**
   * Never attached: a new client of a paused or suspended compute, logged in by the proxy alone, whose
   * state is its login's. Its restore is the login it skipped, so a failure is the compute's own error
   * (an unknown database: 1049 Unknown database), as a login would have been refused.
   */
  atLogin?: boolean;
}

/** What a fresh login leaves that parking would otherwise capture: no user variables, no insert id. */
export function freshCapture(): ParkCapture {
  return { userVariables: [], lastInsertId: "0", inTransaction: false, collationConnection: "" };
}

/** The parked session of a client the proxy logged in itself: the login's role, database and autocommit. */
export function parkedAtLogin(session: ClientSession): ParkedSession {
  const { handshake, route } = session;
  const database = (handshake.capabilities & Capability.CONNECT_WITH_DB) !== 0 ? handshake.database : null;
  const state = new SessionState(handshake.capabilities, { user: route.role, database, status: ServerStatus.AUTOCOMMIT });
  return { state, capture: freshCapture(), atLogin: true };
}

export interface Restored {
  /** The session's route as read for this restore (current compute facts and park settings). */
  route: ClientSession["route"];
  backend: BackendSession;
  followed: Followed;
  /** Statement ids to translate (null when no prepared statement was restored). */
  ids: StatementIds | null;
  leftover: Buffer;
  wokeFrom: string | null;
  /** The database the new compute connection logged in with (what a reset for the pool brings back). */
  loginDatabase: string | null;
}

const PARKED = "this session was parked while idle";

function failure(code: number, sqlState: string, message: string): ClientError {
  return new ClientError(code, sqlState, message, "restore_failed");
}

const GENERAL = ErrorCode.UNAVAILABLE;

/** attach.ts's attachCompute (passed in: attach.ts starts the sessions that come here). */
export type Attach = typeof attachCompute;

export async function restoreParked(ctx: ProxyContext, attach: Attach, session: ClientSession, parked: ParkedSession): Promise<Restored> {
  const { slug, role } = session.route;
  const route = await ctx.routes.lookup({ slug, role }, { fresh: true });
  if (!route) {
    throw failure(ErrorCode.ACCESS_DENIED, "28000", `${PARKED}, and role '${role}' of project '${slug}' no longer exists, so it cannot be restored; reconnect as an existing role`);
  }
  if (!passwordStillValid(session.stage1, route.doubleHash)) {
    throw failure(ErrorCode.ACCESS_DENIED, "28000", `${PARKED}, and the password of role '${role}' changed meanwhile, so it cannot be restored; reconnect with the new password`);
  }
  const plan = restorePlan(parked.state, parked.capture);
  // A session parked at login makes the login it skipped (with its database: a pooled connection of that
  // login serves, and a missing database is refused as at any login); others log in without one.
  const handshake = withSessionTracking(
    parked.atLogin ? session.handshake : { ...session.handshake, database: null, capabilities: session.handshake.capabilities & ~Capability.CONNECT_WITH_DB },
  );
  let attached;
  try {
    attached = await attach(ctx, { ...session, route, handshake }, Date.now() + ctx.wakeTimeoutMs, route.readAt);
  } catch (error) {
    if (error instanceof ClientError && parked.atLogin) throw error; // as the login would have failed
    if (error instanceof ClientError) throw failure(error.code, error.sqlState, `${PARKED} and could not be restored: ${error.message}`);
    throw error;
  }
  const { backend, wokeFrom } = attached;
  const followed = followCompute({ ...session, route }, backend, handshake.database);
  const exchange = exchangeOn(backend, followed, ctx.wakeTimeoutMs);
  const ids = parked.state.prepared.size > 0 ? new StatementIds(parked.state.prepared.keys()) : null;
  try {
    for (const step of plan.steps) await runRestoreStep(step, exchange, ids, parked.atLogin === true, PARKED);
  } catch (error) {
    backend.compute.socket.destroy();
    if (error instanceof ClientError) throw error;
    throw failure(GENERAL, "08S01", `${PARKED} and could not be restored (${error instanceof Error ? error.message : String(error)}); reconnect`);
  } finally {
    followed.onReply = null;
  }
  return { route, backend, followed, ids, leftover: exchange.detach(), wokeFrom, loginDatabase: handshake.database };
}

/** One step of a restore plan on the exchange; a failure is a ClientError that starts with `why` (what happened to the session). */
export async function runRestoreStep(step: RestoreStep, exchange: ReturnType<typeof exchangeOn>, ids: StatementIds | null, atLogin: boolean, why: string): Promise<void> {
  if (step.kind === "query") {
    const { reply } = await exchange.run(queryPayload(step.sql));
    if (reply.error && atLogin) {
      // The login the client made (e.g. to a database that does not exist) refused, as the compute refuses it.
      throw new ClientError(reply.error.code, reply.error.sqlState, reply.error.message, "backend_refused");
    }
    if (reply.error) {
      throw failure(reply.error.code, reply.error.sqlState, `${why} and could not be restored: \`${clip(step.sql)}\` failed: ${reply.error.message}; reconnect and set the session up again`);
    }
    return;
  }
  if (step.kind === "set-option") {
    const payload = Buffer.from([Command.SET_OPTION, step.option, 0]);
    const { reply } = await exchange.run(payload);
    if (reply.error) throw failure(reply.error.code, reply.error.sqlState, `${why} and could not be restored: COM_SET_OPTION failed: ${reply.error.message}; reconnect`);
    return;
  }
  let serverId: number | null = null;
  // The follower is told the client's id, so the session's state stays keyed by the ids the client holds.
  const { reply } = await exchange.run(Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from(step.sql, "utf8")]), (payload) => {
    if (serverId !== null || payload[0] !== 0x00) return payload;
    serverId = payload.readUInt32LE(1);
    const renamed = Buffer.from(payload);
    renamed.writeUInt32LE(step.clientId, 1);
    return renamed;
  });
  const what = `prepared statement ${step.clientId} (\`${clip(step.sql)}\`)`;
  if (reply.error || serverId === null) {
    throw failure(reply.error?.code ?? GENERAL, reply.error?.sqlState ?? "HY000", `${why}, and ${what} no longer compiles: ${reply.error?.message ?? "no statement id"}; reconnect`);
  }
  if (reply.prepared?.params !== step.params) {
    throw failure(GENERAL, "HY000", `${why}, and ${what} now takes ${reply.prepared?.params} parameters instead of ${step.params}; reconnect`);
  }
  ids?.restored(step.clientId, serverId);
}

const clip = (sql: string) => (sql.length > 80 ? `${sql.slice(0, 77)}...` : sql);
