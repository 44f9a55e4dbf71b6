import type { Duplex } from "node:stream";
import { PacketCollector, type Packet } from "./protocol/packet";

/**
 * Reads whole packets from a socket during a handshake (client side or compute side). After the
 * handshake, `detach()` stops listening and returns the bytes that arrived beyond the last packet read,
 * so the byte pump can take over without losing any.
 */
export class PacketStream {
  private readonly collector: PacketCollector;
  private waiter: { resolve: (p: Packet) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.collector.push(chunk);
    this.deliver();
  };
  private readonly onEnd = () => this.fail(new ConnectionClosedError());
  private readonly onError = (error: Error) => this.fail(error);

  constructor(
    private socket: Duplex,
    maxPayload: number,
  ) {
    this.collector = new PacketCollector(maxPayload);
    this.attach(socket);
  }

  private attach(socket: Duplex) {
    this.socket = socket;
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
    socket.on("error", this.onError);
  }

  private detachListeners() {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onError);
  }

  private fail(error: Error) {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(this.failure);
  }

  private deliver() {
    if (!this.waiter) return;
    let packet: Packet | null;
    try {
      packet = this.collector.next();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (packet) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(packet);
    }
  }

  read(): Promise<Packet> {
    if (this.waiter) return Promise.reject(new Error("concurrent read"));
    return new Promise<Packet>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.deliver();
      if (this.waiter && this.failure) this.fail(this.failure);
    });
  }

  /** Continue on another socket wrapping the same connection (after a TLS upgrade). */
  replaceSocket(socket: Duplex) {
    this.detachListeners();
    this.failure = null;
    this.attach(socket);
  }

  /** The bytes received beyond the packets read so far, taken out of the buffer (reading goes on). */
  takeBuffered(): Buffer {
    return this.collector.rest();
  }

  /** Stop reading; the bytes already received beyond the packets read so far. */
  detach(): Buffer {
    this.detachListeners();
    return this.collector.rest();
  }

  get pendingBytes(): number {
    return this.collector.buffered;
  }
}

export class ConnectionClosedError extends Error {
  constructor() {
    super("connection closed");
  }
}
