import { PacketFramer, type FramedPacket } from "../protocol/packet-framer";
import { pinsOf, type Pin } from "./pins";
import { ReplyFollower, type Reply } from "./reply-follower";
import { SessionState, type SessionLogin } from "./session-state";

// One session's follower as the proxy will hold it: the bytes it relays each way go in (in relay order),
// and out come the session's state and whether, and why not, it can be parked now.

/**
 * Client packets kept whole up to this size, so that a bulk INSERT's text can be classified; a statement
 * beyond it is not read, and pins its session ("not inspected").
 */
export const CLIENT_KEEP_LIMIT = 16 * 1024 * 1024;

export interface SessionFollowerOptions extends SessionLogin {
  /** Capabilities of the compute connection (CLIENT_SESSION_TRACK, CLIENT_DEPRECATE_EOF, ...). */
  capabilities: number;
  extendedCapabilities?: number;
  /** Status flags of the login's OK packet. */
  status?: number | null;
  onReply?: (reply: Reply) => void;
  /** The state to go on from (a session taking over a connection already in its state), instead of a fresh one. */
  state?: SessionState;
}

/** A reply whose packets the proxy reads itself (its own query, sent ahead of the client's commands). */
interface Capture {
  /** The reply's number as `replies.finished` counts (1: the first reply on the connection). */
  reply: number;
  payloads: Buffer[];
  done: (payloads: Buffer[] | null) => void;
}

export class SessionFollower {
  readonly replies: ReplyFollower;
  private current: SessionState;
  private readonly fromClient: PacketFramer;
  private readonly fromServer: PacketFramer;
  private capture: Capture | null = null;

  constructor(options: SessionFollowerOptions) {
    this.current = options.state ?? new SessionState(options.capabilities, options);
    this.replies = new ReplyFollower({
      capabilities: options.capabilities,
      extendedCapabilities: options.extendedCapabilities,
      onReply: (reply) => {
        this.state.applyReply(reply);
        options.onReply?.(reply);
      },
    });
    this.fromClient = new PacketFramer((p) => this.replies.clientPacket(p), CLIENT_KEEP_LIMIT);
    this.fromServer = new PacketFramer((p) => this.serverPacket(p));
  }

  /** The state of the session this follower follows now. */
  get state(): SessionState {
    return this.current;
  }

  /**
   * From now on, follow another session on the same connection: one that takes the connection over in a
   * state the same as its previous owner's in everything a client can see (proxy/lend-restore.ts). Only at
   * a command boundary (quiet), where nothing of the previous session's is in flight.
   */
  followAs(state: SessionState): void {
    if (!this.quiet) throw new Error("a follower changes sessions only at a command boundary");
    this.current = state;
  }

  /**
   * Hand the payloads of reply number `reply` to `done` once it is finished (null: the follower lost track
   * first). Packets of a large row (64 KiB or more) may reach the follower in parts: for small replies only.
   */
  captureReply(reply: number, done: (payloads: Buffer[] | null) => void): void {
    this.capture = { reply, payloads: [], done };
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
    const capture = this.capture;
    if (capture === null) return this.replies.serverPacket(packet);
    if (this.replies.finished === capture.reply - 1 && packet.payload) capture.payloads.push(Buffer.from(packet.payload)); // a view, valid only now
    this.replies.serverPacket(packet);
    if (this.replies.finished >= capture.reply || this.replies.lost) {
      this.capture = null;
      capture.done(this.replies.lost ? null : capture.payloads);
    }
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
