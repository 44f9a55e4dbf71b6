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
 * The chunk's memory is reused by the next read: keep a copy of anything needed later. Returning "hold"
 * stops reading until `release()` (the filter has something to finish first).
 */
export type ChunkFilter = (chunk: Buffer, forward: (part: Buffer) => void) => void | "hold";

/** Bytes relayed one way, added up where they are written (one addition per chunk: metering, not a hook). */
export interface ByteCounter {
  bytes: number;
}

/** Where a connection's bytes go once the session is pumped. */
export interface ReadSide {
  /**
   * Write everything read from now on to `target` (through `filter` when given), with backpressure, adding
   * what is written to `counter` when given.
   */
  relayTo(target: Duplex, filter?: ChunkFilter, counter?: ByteCounter): void;
  /** Read again after the filter returned "hold" (reading waits for the target to drain as well). */
  release(): void;
}

/**
 * Why reading is stopped: the target is full, or the filter holds. Reading resumes when neither is so.
 * `forward` is the filter's writer; `resume` starts reading again.
 */
function flowControl(target: Duplex, resume: () => void, counter: ByteCounter = { bytes: 0 }) {
  const state = { full: false, held: false };
  const maybeResume = () => {
    if (!state.full && !state.held) resume();
  };
  return {
    forward(part: Buffer) {
      counter.bytes += part.length;
      if (part.length === 0 || target.write(part) || state.full) return;
      state.full = true;
      target.once("drain", () => {
        state.full = false;
        maybeResume();
      });
    },
    release() {
      state.held = false;
      maybeResume();
    },
    /** After a chunk went through the filter: whether to keep reading. */
    after(result: void | "hold"): boolean {
      if (result === "hold") state.held = true;
      return !state.full && !state.held;
    },
  };
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
  private flow: ReturnType<typeof flowControl> | null = null;

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

  /** A later call relays to another target from the next read on (a parked session's new compute connection). */
  relayTo(target: Duplex, filter?: ChunkFilter, counter?: ByteCounter): void {
    const flow = (this.flow = flowControl(target, () => this.socket.resume(), counter));
    const forward = (part: Buffer) => flow.forward(part);
    this.sink = (chunk) => {
      const result = filter ? filter(chunk, forward) : forward(chunk);
      // A write that could not complete at once keeps a reference to this buffer.
      if (target.writableLength > 0) this.lent = true;
      return flow.after(result); // false stops reading (onread's contract) until resumed
    };
  }

  release(): void {
    this.flow?.release();
  }

  /**
   * Stop relaying: reads are 'data' events again (as before relayTo), and reading resumes if the relay had
   * stopped it. For a compute connection the proxy keeps after its client quit (proxy/server-pool.ts).
   */
  detach(): void {
    this.sink = null;
    this.flow = null;
    this.socket.resume();
  }
}

/** The read side of any stream (a TLS client): 'data' events, paused while the target is full or held. */
export function streamReads(source: Duplex): ReadSide {
  let flow: ReturnType<typeof flowControl> | null = null;
  let listener: ((chunk: Buffer) => void) | null = null;
  return {
    // A later call relays to another target (a parked session's new compute connection).
    relayTo(target, filter, counter) {
      const control = (flow = flowControl(target, () => source.resume(), counter));
      const forward = (part: Buffer) => control.forward(part);
      if (listener) source.off("data", listener);
      listener = (chunk: Buffer) => {
        const result = filter ? filter(chunk, forward) : forward(chunk);
        if (!control.after(result)) source.pause();
      };
      source.on("data", listener);
    },
    release() {
      flow?.release();
    },
  };
}
