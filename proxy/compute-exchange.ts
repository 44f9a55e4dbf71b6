import type { BackendSession } from "./backend";
import { PacketStream } from "./packet-stream";
import { encodePacket } from "./protocol/packet";
import type { FramedPacket } from "./protocol/packet-framer";
import type { Reply } from "./session-state/reply-follower";
import type { SessionFollower } from "./session-state/session-follower";
import { withTimeout } from "./timeout";

// Commands the proxy itself sends on a compute connection before the relay takes it over (the tracking
// setup after a login, a parked session's restore steps): each command and each packet of its reply go
// through the session's follower, as relayed bytes would, and the reply is returned to the caller instead
// of reaching the client.

export interface Exchanged {
  reply: Reply;
  /** The reply's payloads, in order. */
  payloads: Buffer[];
}

export class ComputeExchange {
  private readonly stream: PacketStream;
  private finished: Reply | null = null;

  /** `replies` is where the follower's finished replies are told (the caller wires its onReply to it). */
  constructor(
    private readonly backend: BackendSession,
    private readonly follower: SessionFollower,
    private readonly timeoutMs: number,
  ) {
    this.stream = new PacketStream(backend.compute.socket, 16 * 1024 * 1024);
  }

  /** The follower's onReply, while this exchange runs. */
  replied(reply: Reply): void {
    this.finished = reply;
  }

  /**
   * Send one command (its payload) and read its whole reply. `rewrite` may change a reply packet before the
   * follower sees it (a re-prepared statement's id, told in the client's numbering).
   */
  async run(payload: Buffer, rewrite?: (payload: Buffer) => Buffer): Promise<Exchanged> {
    this.finished = null;
    const packet = encodePacket(payload, 0);
    this.follower.clientBytes(packet);
    this.backend.compute.socket.write(packet);
    const payloads: Buffer[] = [];
    while (!this.finished) {
      const read = await withTimeout(this.stream.read(), this.timeoutMs, "the compute's reply");
      const seen = rewrite ? rewrite(read.payload) : read.payload;
      payloads.push(read.payload);
      const framed: FramedPacket = { sequenceId: read.sequenceId, length: seen.length, firstByte: seen[0], payload: seen };
      this.follower.serverPacket(framed);
      if (this.follower.replies.lost) throw new Error(`the proxy lost track of its own exchange (${this.follower.replies.lost})`);
    }
    return { reply: this.finished, payloads };
  }

  /** Hand the connection to the relay: the bytes read beyond the last reply (normally none). */
  detach(): Buffer {
    return this.stream.detach();
  }
}
