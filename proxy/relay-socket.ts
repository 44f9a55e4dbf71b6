import net from "node:net";
import type { Duplex } from "node:stream";

// The read side of a relayed connection, made as cheap as Node allows. On two cores the proxy's own CPU
// decides its throughput, and a stream 'data' event costs a fresh buffer, Readable bookkeeping and an
// emit per chunk. A RelaySocket reads with `onread` into one reused buffer and hands each chunk straight
// to the socket it is relayed to (about 10 % more point-selects per second on this machine; see the README's
// benchmark section). TLS clients keep the ordinary stream path (`streamReads`): decryption costs more
// than the stream machinery, and a TLS socket's handle cannot be read this way.

/**
 * Called with each chunk read; `forward` writes a part of it (or any buffer) to the relay's target.
 * The chunk's memory is reused by the next read: keep a copy of anything needed later.
 */
export type ChunkFilter = (chunk: Buffer, forward: (part: Buffer) => void) => void;

/** Where a connection's bytes go once the session is pumped. */
export interface ReadSide {
  /** Write everything read from now on to `target` (through `filter` when given), with backpressure. */
  relayTo(target: Duplex, filter?: ChunkFilter): void;
}

const READ_BUFFER_BYTES = 64 * 1024;

/** The parts of a TCP handle the relay touches (Node's internal TCPWrap). */
interface TcpHandle {
  reading: boolean;
  readStop(): number;
}

export class RelaySocket implements ReadSide {
  readonly socket: net.Socket;
  private sink: ((chunk: Buffer) => boolean) | null = null;
  private buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The buffer is referenced by a write still queued: the next read must not overwrite it. */
  private lent = false;

  private constructor(options: net.NetConnectOpts | { handle: TcpHandle }, connect: boolean) {
    const onread = {
      buffer: () => {
        if (this.lent) {
          this.buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
          this.lent = false;
        }
        return this.buffer;
      },
      callback: (bytes: number, buffer: Uint8Array) => {
        const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
        if (this.sink) return this.sink(chunk);
        // Before relayTo (a compute login): ordinary 'data' events with their own copy.
        this.socket.emit("data", Buffer.from(chunk));
        return true;
      },
    };
    this.socket = connect
      ? net.connect({ ...(options as net.NetConnectOpts), onread } as net.NetConnectOpts)
      : new net.Socket({ ...(options as object), onread } as net.SocketConstructorOpts);
  }

  /** Connect to a compute: by TCP, or by its Unix socket when `socketPath` is given. */
  static connect(host: string, port: number, socketPath?: string): RelaySocket {
    return new RelaySocket(socketPath ? { path: socketPath } : { host, port, noDelay: true }, true);
  }

  /**
   * Take over the connection of an accepted plain-TCP socket whose handshake is over. The accepted socket
   * stays as the server's record of the connection (its count, maxConnections, the shutdown drain): each
   * closes the other. Returns null when the socket cannot be handed over as it is (bytes still queued in
   * its write buffer, or no handle): the caller keeps using it as a stream.
   */
  static adopt(accepted: net.Socket): RelaySocket | null {
    const internals = accepted as unknown as { _handle: TcpHandle | null };
    const handle = internals._handle;
    if (!handle || accepted.destroyed || accepted.writableLength > 0 || accepted.readableLength > 0) return null;
    // Stop reading through the old socket, then give the handle to a socket that reads into our buffer.
    handle.readStop();
    handle.reading = false;
    internals._handle = null;
    const relay = new RelaySocket({ handle }, false);
    relay.socket.once("close", () => accepted.destroy());
    accepted.once("close", () => relay.socket.destroy());
    return relay;
  }

  relayTo(target: Duplex, filter?: ChunkFilter): void {
    let full = false;
    const forward = (part: Buffer) => {
      if (part.length > 0 && !target.write(part)) full = true;
    };
    this.sink = (chunk) => {
      full = false;
      if (filter) filter(chunk, forward);
      else forward(chunk);
      // A write that could not complete at once keeps a reference to this buffer.
      if (target.writableLength > 0) this.lent = true;
      if (full) target.once("drain", () => this.socket.resume());
      return !full; // false stops reading until the target drains
    };
  }
}

/** The read side of any stream (a TLS client): 'data' events, paused while the target is full. */
export function streamReads(source: Duplex): ReadSide {
  return {
    relayTo(target, filter) {
      let full = false;
      const forward = (part: Buffer) => {
        if (part.length > 0 && !target.write(part)) full = true;
      };
      source.on("data", (chunk: Buffer) => {
        full = false;
        if (filter) filter(chunk, forward);
        else forward(chunk);
        if (full) {
          source.pause();
          target.once("drain", () => source.resume());
        }
      });
    },
  };
}
