import { Capability, MAX_PAYLOAD, ServerStatus } from "../protocol/constants";
import { decodeOk, encodeOkPacket } from "../protocol/ok-packet";
import { encodePacket } from "../protocol/packet";
import { decodePrepareOk, encodePrepareOk } from "../protocol/statement-packets";
import type { SessionFollower } from "./session-follower";
import type { StatementIds } from "./statement-ids";

// The compute -> client direction of a followed session, for the sessions whose replies the proxy must
// change (the others are fed to the follower and forwarded as they are, in the chunks they arrive in):
//   - a client that did not ask for CLIENT_SESSION_TRACK (the proxy always logs in with it): OK packets
//     lose their session-state block and SERVER_SESSION_STATE_CHANGED, which such a client would read as
//     part of `info`;
//   - a restored session (statement-ids.ts): COM_STMT_PREPARE_OK gets an id the client has not used;
//   - a new session: the reply to the proxy's own tracking setup, sent ahead of the client's first command,
//     is taken out of the stream (`swallowUntil`: until the follower has finished that many replies).
// Packets are walked one by one; a small packet split between reads is kept until it is whole, a large one
// (a row of 64 KiB or more, never an OK or a prepare reply) passes through as it comes. The follower sees
// the session-state blocks (it is fed before stripping) and the client's statement ids.

const KEEP_WHOLE = 64 * 1024;

/** An OK packet's payload without its session-state block (null: nothing to take out). */
export function stripSessionState(payload: Buffer): Buffer | null {
  const ok = decodeOk(payload, Capability.SESSION_TRACK);
  if ((ok.status & ServerStatus.SESSION_STATE_CHANGED) === 0) return null;
  return encodeOkPacket({ ...ok, sessionState: [], status: ok.status & ~ServerStatus.SESSION_STATE_CHANGED, header: payload[0] as 0x00 | 0xfe });
}

export class ServerRewriter {
  private pending: Buffer | null = null;
  private passthrough = 0;
  private continuation = false;

  constructor(
    private readonly follower: SessionFollower,
    private readonly strip: boolean,
    private readonly ids: StatementIds | null,
    private swallowUntil: number | null = null,
  ) {}

  /** Whether the stream still needs this (else the relay goes back to forwarding chunks as they come). */
  get needed(): boolean {
    return this.strip || this.ids !== null || this.swallowUntil !== null || this.pending !== null || this.passthrough > 0 || this.continuation;
  }

  /** Part-way through a packet, or still to take the tracking setup's reply out: not at a safe point. */
  get midStream(): boolean {
    return this.swallowUntil !== null || this.pending !== null || this.passthrough > 0 || this.continuation;
  }

  push(chunk: Buffer, forward: (part: Buffer) => void): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let offset = 0;
    let from = 0;
    while (offset < data.length) {
      if (this.passthrough > 0) {
        const take = Math.min(this.passthrough, data.length - offset);
        this.follower.serverBytes(data.subarray(offset, offset + take));
        offset += take;
        this.passthrough -= take;
        continue;
      }
      if (data.length - offset < 4) break;
      const length = data.readUIntLE(offset, 3);
      const large = this.continuation || length >= KEEP_WHOLE;
      this.continuation = length === MAX_PAYLOAD;
      if (large) {
        this.passthrough = 4 + length;
        continue;
      }
      if (data.length - offset < 4 + length) break;
      const packet = data.subarray(offset, offset + 4 + length);
      if (this.swallowUntil !== null) {
        // The proxy's own exchange: the follower sees it, the client does not.
        this.follower.serverBytes(packet);
        forward(data.subarray(from, offset));
        offset += 4 + length;
        from = offset;
        if (this.follower.replies.finished >= this.swallowUntil || this.follower.replies.lost) this.swallowUntil = null;
        continue;
      }
      let replaced: ReturnType<ServerRewriter["replacement"]> = null;
      try {
        replaced = this.replacement(packet, length);
      } catch {
        // A malformed OK or prepare reply goes as it is; the follower loses track of the session (pinned).
      }
      // The follower reads the session state the client does not get, and the client's statement ids.
      this.follower.serverBytes(replaced?.forFollower ?? packet);
      if (replaced) {
        forward(data.subarray(from, offset));
        forward(replaced.forClient);
        from = offset + 4 + length;
      }
      offset += 4 + length;
    }
    forward(data.subarray(from, offset));
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }

  private replacement(packet: Buffer, length: number): { forClient: Buffer; forFollower: Buffer } | null {
    const role = this.follower.replies.nextServerPacket(packet[4], length);
    const sequenceId = packet[3]!;
    const payload = packet.subarray(4);
    if (role === "ok" && this.strip) {
      const stripped = stripSessionState(payload);
      return stripped ? { forClient: encodePacket(stripped, sequenceId), forFollower: packet } : null;
    }
    if (role === "prepare-ok" && this.ids) {
      const prepared = decodePrepareOk(payload);
      const renamed = encodePacket(encodePrepareOk({ ...prepared, statementId: this.ids.prepared(prepared.statementId) }), sequenceId);
      return { forClient: renamed, forFollower: renamed };
    }
    return null;
  }
}
