import crypto from "node:crypto";
import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import { ComputeExchange } from "./compute-exchange";
import { Capability, Command } from "./protocol/constants";
import { encodePacket } from "./protocol/packet";
import type { HandshakeResponse } from "./protocol/handshake";
import { decodeOk, type OkPacket } from "./protocol/ok-packet";
import type { Reply } from "./session-state/reply-follower";
import { SessionFollower } from "./session-state/session-follower";
import type { SessionState } from "./session-state/session-state";
import { stripSessionState } from "./session-state/server-rewriter";
import { GLOBAL_CHECK_SQL, globalsTrack, loginEvidence, trackingDefaults, type TrackingPlan } from "./session-state/tracking-defaults";
import { TRACKING_SETUP_SQL } from "./session-state/tracking-settings";
import { textRowsOf } from "./session-state/text-rows";

// A compute connection the proxy follows (proxy/session-state/README.md, "How parking will use them"):
// logged in with CLIENT_SESSION_TRACK whatever the client asked, its session tracking set up by the proxy
// before the client's first command unless the compute's defaults already track it (tracking-defaults.ts),
// and a SessionFollower fed with everything relayed on it.

export interface Followed {
  follower: SessionFollower;
  /** Told each reply the follower finishes, while set (the proxy's own exchanges). */
  onReply: ((reply: Reply) => void) | null;
  /** What sendTrackingSetup sends: nothing ("by-default"), the setup, or the setup and the defaults' check. */
  tracking: TrackingPlan;
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

/**
 * Follow a compute connection logged in with `database` (null: none). Whether it needs the tracking setup
 * is decided here, from its login's OK and what the proxy checked of its server (trackingSetupNeeded).
 * `state`: a session's own state to go on from, on a connection already in it (proxy/lend-restore.ts).
 */
export function followCompute(session: ClientSession, backend: BackendSession, database: string | null, state?: SessionState): Followed {
  const ok = loginOkOf(backend);
  const endpoint = backend.endpoint ?? null;
  const tracking = trackingDefaults.plan(endpoint, loginEvidence(ok, database !== null));
  const followed: Followed = { follower: null as unknown as SessionFollower, onReply: null, tracking };
  followed.follower = new SessionFollower({
    capabilities: backend.capabilities,
    extendedCapabilities: session.handshake.extendedCapabilities & backend.greeting.extendedCapabilities,
    user: session.route.role,
    database,
    status: ok.status,
    trackingByDefault: tracking === "by-default",
    trackingDoubt: endpoint === null ? undefined : () => trackingDefaults.forget(endpoint),
    onReply: (reply) => followed.onReply?.(reply),
    state,
  });
  return followed;
}

/**
 * The previous owner's follower of a connection, now following the session that took the connection over
 * in the same visible state (proxy/lend-restore.ts): one follower per connection, not one per take-over.
 */
export function followOn(followed: Followed, state: SessionState): Followed {
  followed.follower.followAs(state);
  followed.onReply = null; // the previous owner's hook
  return followed;
}

/** A connection's login OK, decoded once (a multiplexed connection is followed anew at each take-over). */
const decodedLoginOk = new WeakMap<BackendSession, OkPacket>();
function loginOkOf(backend: BackendSession): OkPacket {
  let ok = decodedLoginOk.get(backend);
  if (!ok) decodedLoginOk.set(backend, (ok = decodeOk(backend.ok, backend.capabilities)));
  return ok;
}

/**
 * Whether the proxy must set session tracking up on this connection itself (sendTrackingSetup sends
 * something). False when the compute's global defaults track what the follower needs: its follower then
 * counts tracking as ready from the login, and again after each COM_RESET_CONNECTION / COM_CHANGE_USER.
 */
export function trackingSetupNeeded(followed: Followed): boolean {
  return followed.tracking !== "by-default";
}

export const queryPayload = (sql: string) => Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql, "utf8")]);

/** An exchange of the proxy's own on the connection (before the relay has it, or while it lets go). */
export function exchangeOn(backend: BackendSession, followed: Followed, timeoutMs: number): ComputeExchange {
  const exchange = new ComputeExchange(backend, followed.follower, timeoutMs);
  followed.onReply = (reply) => exchange.replied(reply);
  return exchange;
}

/**
 * Set session tracking up on a freshly logged-in connection, ahead of anything the client sends, unless
 * the compute's defaults already track (then nothing is sent and null returned). The commands go to the
 * follower and the compute, and their replies are for the relay to take out of the stream
 * (ServerRewriter's swallowUntil: the number returned). A refusal leaves the session unfollowable (pinned:
 * "session tracking is not set up"), never failed. When the plan says so, the compute's GLOBAL tracking
 * settings are asked too, and the answer kept for the next connections (tracking-defaults.ts).
 */
export function sendTrackingSetup(backend: BackendSession, followed: Followed): number | null {
  if (followed.tracking === "by-default") return null;
  const { follower } = followed;
  const packets = [encodePacket(queryPayload(TRACKING_SETUP_SQL), 0)];
  const endpoint = backend.endpoint;
  if (followed.tracking === "setup-and-check" && endpoint !== undefined) {
    packets.push(encodePacket(queryPayload(GLOBAL_CHECK_SQL), 0));
    const deprecateEof = (backend.capabilities & Capability.DEPRECATE_EOF) !== 0;
    follower.captureReply(follower.replies.finished + 2, (payloads) => {
      trackingDefaults.record(endpoint, payloads === null || payloads[0]?.[0] === 0xff ? null : globalsTrack(textRowsOf(payloads, deprecateEof)[0] ?? []));
    });
  }
  for (const packet of packets) follower.clientBytes(packet);
  backend.compute.socket.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
  return follower.replies.finished + packets.length;
}

/** SHA1(stage1) = the role's stored double hash: the password the session logged in with is still the role's. */
export function passwordStillValid(stage1: Buffer, doubleHash: Buffer): boolean {
  return crypto.createHash("sha1").update(stage1).digest().equals(doubleHash);
}
