import crypto from "node:crypto";
import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ComputeExchange } from "./compute-exchange";
import { Capability, Command } from "./protocol/constants";
import { encodePacket } from "./protocol/packet";
import type { HandshakeResponse } from "./protocol/handshake";
import { decodeOk } from "./protocol/ok-packet";
import type { Reply } from "./session-state/reply-follower";
import { SessionFollower } from "./session-state/session-follower";
import type { SessionState } from "./session-state/session-state";
import { stripSessionState } from "./session-state/server-rewriter";
import { TRACKING_SETUP_SQL } from "./session-state/tracking-settings";

// A compute connection the proxy follows (proxy/session-state/README.md, "How parking will use them"):
// logged in with CLIENT_SESSION_TRACK whatever the client asked, its session tracking set up by the proxy
// before the client's first command, and a SessionFollower fed with everything relayed on it.

export interface Followed {
  follower: SessionFollower;
  /** Told each reply the follower finishes, while set (the proxy's own exchanges). */
  onReply: ((reply: Reply) => void) | null;
}

/** The client's login as the proxy sends it to a compute: always with session tracking. */
export function withSessionTracking(handshake: HandshakeResponse): HandshakeResponse {
  return { ...handshake, capabilities: handshake.capabilities | Capability.SESSION_TRACK };
}

/** Whether the client itself reads session-state blocks (else the proxy strips them from OK packets). */
export function clientTracksSession(session: ClientSession): boolean {
  return (session.handshake.capabilities & Capability.SESSION_TRACK) !== 0;
}

/** The compute's login OK as the client gets it. */
export function loginOkForClient(session: ClientSession, ok: Buffer): Buffer {
  return clientTracksSession(session) ? ok : (stripSessionState(ok) ?? ok);
}

/** `state`: a session's own state to go on from, on a connection already in it (proxy/lend-restore.ts). */
export function followCompute(session: ClientSession, backend: BackendSession, database: string | null, state?: SessionState): Followed {
  const followed: Followed = { follower: null as unknown as SessionFollower, onReply: null };
  followed.follower = new SessionFollower({
    capabilities: backend.capabilities,
    extendedCapabilities: session.handshake.extendedCapabilities & backend.greeting.extendedCapabilities,
    user: session.route.role,
    database,
    status: decodeOk(backend.ok, backend.capabilities).status,
    onReply: (reply) => followed.onReply?.(reply),
    state,
  });
  return followed;
}

export const queryPayload = (sql: string) => Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql, "utf8")]);

/** An exchange of the proxy's own on the connection (before the relay has it, or while it lets go). */
export function exchangeOn(backend: BackendSession, followed: Followed, timeoutMs: number): ComputeExchange {
  const exchange = new ComputeExchange(backend, followed.follower, timeoutMs);
  followed.onReply = (reply) => exchange.replied(reply);
  return exchange;
}

/**
 * Set session tracking up on a freshly logged-in connection, ahead of anything the client sends: the
 * command goes to the follower and the compute, and the reply is for the relay to take out of the stream
 * (ServerRewriter's swallowUntil: the number returned). A refusal leaves the session unfollowable (pinned:
 * "session tracking is not set up"), never failed.
 */
export function sendTrackingSetup(backend: BackendSession, followed: Followed): number {
  const packet = encodePacket(queryPayload(TRACKING_SETUP_SQL), 0);
  followed.follower.clientBytes(packet);
  backend.compute.socket.write(packet);
  return followed.follower.replies.finished + 1;
}

/** SHA1(stage1) = the role's stored double hash: the password the session logged in with is still the role's. */
export function passwordStillValid(stage1: Buffer, doubleHash: Buffer): boolean {
  return crypto.createHash("sha1").update(stage1).digest().equals(doubleHash);
}
