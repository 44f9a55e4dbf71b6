import type { Duplex } from "node:stream";
import type { ClientSession } from "./attach";
import { ClientError } from "./client-error";
import type { ProxyContext } from "./context";
import { freshCapture, type ParkedSession } from "./parking-restore";
import { authenticateChangeUser } from "./policy";
import { decodeChangeUser } from "./protocol/change-user";
import { KILLED_BY_OWNER } from "@/server/proxy-activity/constants";
import { parseKill, startsWithKill, type KillStatement } from "./kill";
import { Command, ErrorCode, ServerStatus } from "./protocol/constants";
import { encodeError, encodeOk } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { parkedAnswer } from "./session-state/parked-answers";

// The commands a parked session's proxy answers itself, waking nothing (proxy/parking-session.ts hands
// each command here first): COM_QUIT, COM_STMT_CLOSE (no reply), COM_PING and the pool validation queries
// (session-state/parked-answers.ts), COM_RESET_CONNECTION, and COM_CHANGE_USER without a database. Any
// other command, and anything whose answer only the compute knows, is left to unparking.

/** Who a session became by COM_CHANGE_USER (its compute logins are made as this from now on). */
export interface UserChange {
  route: ClientSession["route"];
  stage1: Buffer;
  collation: number | null;
}

export interface ParkedCommandContext {
  ctx: ProxyContext;
  session: ClientSession;
  client: Duplex;
  /** The extended capabilities the session negotiated (the proxy's answers are shaped by them). */
  extendedCapabilities: number;
  becomeUser(change: UserChange): void;
}

/** The status flags a parked session's own answers carry: its last, without a session-state mark. */
function parkedStatus(parked: ParkedSession): number {
  return (parked.state.status ?? ServerStatus.AUTOCOMMIT) & ~ServerStatus.SESSION_STATE_CHANGED;
}

/** What a reset or change of user leaves: a fresh login's state (the next restore starts from it). */
function forgetSession(parked: ParkedSession, database: string | null): void {
  parked.state.reset(database);
  parked.state.status = ServerStatus.AUTOCOMMIT;
  parked.capture = freshCapture();
}

/** Whether the proxy answered the command (a whole packet, header included) itself. */
export async function answerParked(c: ParkedCommandContext, packet: Buffer, parked: ParkedSession): Promise<boolean> {
  const payload = packet.subarray(4);
  const reply = (answer: Buffer) => c.client.write(encodePacket(answer, 1));
  switch (payload[0]) {
    case Command.QUIT:
      c.client.end();
      return true;
    case Command.RESET_CONNECTION:
      forgetSession(parked, parked.state.database);
      reply(encodeOk(parkedStatus(parked)));
      return true;
    case Command.CHANGE_USER:
      return changeUserParked(c, payload, parked, reply);
    case Command.STMT_CLOSE:
      // No reply: the statement is simply not restored.
      if (payload.length >= 5) parked.state.prepared.delete(payload.readUInt32LE(1));
      return true;
  }
  const answer = parkedAnswer(payload, parkedStatus(parked), c.session.handshake.capabilities, c.extendedCapabilities);
  if (answer) {
    c.client.write(answer);
    return true;
  }
  return killParked(c, payload, parked, reply);
}

/**
 * A lone KILL from a parked session whose answer needs no compute: an unknown id (1094), or another parked
 * session (its owner ends it, or leaves it for KILL QUERY). A session with a compute thread is killed on
 * the compute, through the pump, after this one is restored.
 */
async function killParked(c: ParkedCommandContext, payload: Buffer, parked: ParkedSession, reply: (answer: Buffer) => void): Promise<boolean> {
  let kill: KillStatement | null = null;
  if (payload[0] === Command.PROCESS_KILL && payload.length >= 5) kill = { hard: null, query: false, id: payload.readUInt32LE(1), rest: "" };
  else if (payload[0] === Command.QUERY && payload.length <= 1024 && startsWithKill(payload)) kill = parseKill(payload.subarray(1).toString("utf8"));
  if (!kill || kill.rest !== "") return false;
  const { projectId, computeId } = c.session.route;
  const target = await Promise.resolve(c.ctx.kills.resolve(kill.id, { projectId, computeId: computeId!, queryOnly: kill.query })).catch(() => null);
  if (target === null) reply(encodeError(ErrorCode.NO_SUCH_THREAD, "HY000", `Unknown thread id: ${kill.id}`));
  else if (target === KILLED_BY_OWNER) reply(encodeOk(parkedStatus(parked)));
  else return false;
  return true;
}

/**
 * COM_CHANGE_USER without a database: the proxy checks the password as at connect and answers; with a
 * database (which may not exist) the compute must say, so it wakes.
 */
async function changeUserParked(c: ParkedCommandContext, payload: Buffer, parked: ParkedSession, reply: (answer: Buffer) => void): Promise<boolean> {
  let request;
  try {
    request = decodeChangeUser(payload, c.session.handshake.capabilities);
  } catch {
    return false; // the compute (and the pump's own check) will say what is wrong with it
  }
  if (request.database) return false;
  try {
    // The restore login never uses the Unix socket for a role that may not (loginPreferringSocket).
    const verified = await authenticateChangeUser(c.ctx, request, c.session, () => true);
    c.becomeUser({ route: verified.route, stage1: verified.stage1, collation: request.collation ?? null });
    forgetSession(parked, null);
    parked.state.user = verified.route.role;
    reply(encodeOk(parkedStatus(parked)));
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    reply(encodeError(error.code, error.sqlState, error.message));
  }
  return true;
}
