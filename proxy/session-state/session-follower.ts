import { PacketFramer, type FramedPacket } from "../protocol/packet-framer";
import { pinsOf, type Pin } from "./pins";
import { ReplyFollower, type Reply } from "./reply-follower";
import { SessionState } from "./session-state";

// One session's follower as the proxy will hold it: the bytes it relays each way go in (in relay order),
// and out come the session's state and whether, and why not, it can be parked now.

/**
 * Client packets kept whole up to this size, so that a bulk INSERT's text can be classified; a statement
 * beyond it is not read, and pins its session ("not inspected").
 */
export const CLIENT_KEEP_LIMIT = 16 * 1024 * 1024;

export interface SessionFollowerOptions {
  /** Capabilities of the compute connection (CLIENT_SESSION_TRACK, CLIENT_DEPRECATE_EOF, ...). */
  capabilities: number;
  extendedCapabilities?: number;
  user: string;
  database: string | null;
  /** Status flags of the login's OK packet. */
  status?: number | null;
  /** The compute's global defaults already track what the proxy needs (no TRACKING_SETUP_SQL needed). */
  trackingByDefault?: boolean;
  onReply?: (reply: Reply) => void;
  /** The state to go on from (a session taking over a connection already in its state), instead of a fresh one. */
  state?: SessionState;
}

export class SessionFollower {
  readonly replies: ReplyFollower;
  readonly state: SessionState;
  private readonly fromClient: PacketFramer;
  private readonly fromServer: PacketFramer;

  constructor(options: SessionFollowerOptions) {
    this.state = options.state ?? new SessionState(options.capabilities, options);
    this.replies = new ReplyFollower({
      capabilities: options.capabilities,
      extendedCapabilities: options.extendedCapabilities,
      onReply: (reply) => {
        this.state.applyReply(reply);
        options.onReply?.(reply);
      },
    });
    this.fromClient = new PacketFramer((p) => this.replies.clientPacket(p), CLIENT_KEEP_LIMIT);
    this.fromServer = new PacketFramer((p) => this.replies.serverPacket(p));
  }

  clientBytes(chunk: Buffer): void {
    this.fromClient.push(chunk);
  }

  serverBytes(chunk: Buffer): void {
    this.fromServer.push(chunk);
  }

  /** Whole packets, for a caller that frames the streams itself (it then owns the half-packet check). */
  clientPacket(packet: FramedPacket): void {
    this.replies.clientPacket(packet);
  }

  serverPacket(packet: FramedPacket): void {
    this.replies.serverPacket(packet);
  }

  /** Why the session cannot be parked now (empty: it can). */
  pins(): Pin[] {
    const pins = pinsOf(this.replies, this.state);
    if (!this.fromClient.idle || !this.fromServer.idle) pins.unshift({ code: "in-flight", reason: "a packet is half transferred" });
    return pins;
  }

  /**
   * At a command boundary: no command awaits its reply (the proxy's own included), no packet is half
   * transferred, nothing was lost track of. Where a compute connection can be reset and lent to another session.
   */
  get quiet(): boolean {
    return this.replies.lost === null && this.replies.inFlight === 0 && this.fromClient.idle && this.fromServer.idle;
  }

  get parkable(): boolean {
    return this.pins().length === 0;
  }
}
