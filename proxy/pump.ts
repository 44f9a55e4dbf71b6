import type { Duplex } from "node:stream";
import { Command, ErrorCode, MAX_PAYLOAD } from "./protocol/constants";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { signalQuery, type ProxyError } from "./protocol/signal";
import { formatKill, parseKill, type KillStatement } from "./kill";
import type { ByteCounter, ChunkFilter, ReadSide } from "./relay-socket";

// The byte pump between a client and its compute once both are logged in. The compute's bytes go to the
// client untouched and unparsed. The client's bytes are forwarded in the chunks they arrive in; the pump
// only follows packet boundaries so that it can recognise the few commands it must handle itself:
//   - KILL [QUERY] <id> (as a query, also as the first of several statements, or COM_PROCESS_KILL): the
//     id the client knows is the proxy's; it is translated to the compute's thread id, or refused if it
//     is not an open session of this project (a session of another proxy process is asked of its owner,
//     proxy/kill-router.ts, client reads waiting meanwhile);
//   - COM_CHANGE_USER: the client answered the proxy's scramble, which the compute cannot check; the
//     session checks it (`changeUser`) and sends the compute its own COM_CHANGE_USER, or answers the
//     client with an error. Reading from the client waits meanwhile, so nothing overtakes it.
// Only packets with sequence id 0 start a command, so LOAD DATA LOCAL contents and long-data packets are
// never mistaken for one.

/**
 * Statements longer than this are never a KILL worth translating: forwarded as they are. Room for a KILL
 * and the statements a client sends after it in the same packet.
 */
const MAX_INTERCEPT = 1024;
/** A COM_CHANGE_USER carries connect attributes (at most 64 KiB of them). */
const MAX_CHANGE_USER = 70 * 1024;

/**
 * What to do instead of forwarding a command: send the compute another packet, or answer the command with
 * an error (which goes through the compute too, so replies stay in order: protocol/signal.ts).
 */
export type InterceptOutcome = { toCompute: Buffer } | { error: ProxyError };

export interface PumpOptions {
  client: Duplex;
  /** The client side's reads (a RelaySocket for plain TCP, 'data' events for TLS). */
  clientReads: ReadSide;
  backend: Duplex;
  /** The compute side's reads. */
  computeReads: ReadSide;
  /** Bytes already received from the client after its handshake. */
  clientLeftover: Buffer;
  /** Bytes already received from the compute after its OK. */
  backendLeftover: Buffer;
  /** Check a COM_CHANGE_USER packet (header included) and say what to send where. */
  changeUser: (packet: Buffer) => Promise<InterceptOutcome>;
  /**
   * The compute thread id a KILL of connection `id` must name (an open session of this session's project
   * and compute), or null; a promise when its owner had to be asked (it settles by the owner's deadline).
   */
  resolveKill: (id: number) => number | null | Promise<number | null>;
  onActivity: () => void;
  onClose: () => void;
  /** Bytes relayed each way, for metering (the activity reporter's counters of this compute). */
  transfer?: { toCompute: ByteCounter; toClient: ByteCounter };
  /** Sees every byte the compute is sent and every byte it sends, in relay order (to follow its replies). */
  observe?: { toCompute(part: Buffer): void; toClient(chunk: Buffer): void };
  /**
   * The client's COM_QUIT: true when the caller keeps the compute connection (proxy/server-pool.ts). The
   * QUIT is then not forwarded; the pump lets go of the compute connection (its listeners, its relay to
   * the client) without closing it, closes the client and calls onClose.
   */
  onQuit?: () => boolean;
}

/** Whether the statement's first non-blank character (looked for in the bytes at hand) is a K. */
function startsWithK(data: Buffer, start: number, end: number): boolean | null {
  const limit = start + 16;
  for (let i = start; i < Math.min(end, data.length, limit); i++) {
    const c = data[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x4b || c === 0x6b;
  }
  // Only blanks so far: undecided while more of the statement is still to come.
  return data.length < Math.min(end, limit) ? null : false;
}

export function pump(o: PumpOptions): void {
  const { client, backend } = o;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    backend.destroy();
    o.onClose();
  };

  // compute -> client: untouched, straight from the compute socket's read buffer.
  const observe = o.observe;
  o.computeReads.relayTo(
    client,
    observe &&
      ((chunk, forward) => {
        observe.toClient(chunk);
        forward(chunk);
      }),
    o.transfer?.toClient,
  );
  /** Everything written to the compute goes through here when it is observed. */
  const observed = (write: (part: Buffer) => void) =>
    observe
      ? (part: Buffer) => {
          observe.toCompute(part);
          write(part);
        }
      : write;
  const writeBackend = observed((part) => backend.write(part));

  // client -> compute: follow packet boundaries, forward everything that is not ours in arrival chunks.
  let pending: Buffer | null = null; // an incomplete packet start we need to see whole
  let remaining = 0; // bytes of the current packet still to forward
  let continuation = false; // the current packet continues a payload of 16 MiB or more

  /** A KILL: the statement translated for the compute, or an error for the client. */
  const killOutcome = (threadId: number | null, statement: KillStatement, sequenceId: number): InterceptOutcome => {
    if (threadId === null) {
      return { error: { code: ErrorCode.NO_SUCH_THREAD, sqlState: "HY000", message: `Unknown thread id: ${statement.id}` } };
    }
    const query = Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(formatKill(statement, threadId))]);
    return { toCompute: encodePacket(query, sequenceId) };
  };

  /**
   * A whole command packet that may be ours (a copy: it may be used after the read buffer is reused): null
   * to forward it as it is, else what to send instead, at once or once a look-up is done.
   */
  const intercept = (packet: Buffer): InterceptOutcome | Promise<InterceptOutcome> | null => {
    const sequenceId = packet[3]!;
    const command = packet[4];
    if (command === Command.CHANGE_USER) return o.changeUser(packet);
    let statement: KillStatement | null = null;
    if (command === Command.PROCESS_KILL && packet.length >= 9) statement = { hard: null, query: false, id: packet.readUInt32LE(5), rest: "" };
    else if (command === Command.QUERY) statement = parseKill(packet.subarray(5).toString("utf8"));
    if (!statement) return null;
    const kill = statement;
    const target = o.resolveKill(kill.id);
    if (!(target instanceof Promise)) return killOutcome(target, kill, sequenceId);
    return target.then(
      (threadId) => killOutcome(threadId, kill, sequenceId),
      () => killOutcome(null, kill, sequenceId),
    );
  };

  /** Carry out an outcome for the command packet whose sequence id was `sequenceId`. */
  const apply = (outcome: InterceptOutcome, sequenceId: number, send: (part: Buffer) => void) => {
    send("toCompute" in outcome ? outcome.toCompute : encodePacket(signalQuery(outcome.error), sequenceId));
  };

  // Client bytes read while an intercepted command waits for its look-up (copies), processed after it.
  let held: Buffer[] | null = null;
  // The previous client packet's sequence id and length (to see sequence ids wrap in LOAD DATA uploads).
  let previousSequence = -1;
  let previousLength = 0;

  /** Answer the client an error and end the session (something the proxy must not pass on). */
  const endWithError = (message: string, sequenceId: number) => {
    if (closed) return;
    client.end(encodePacket(encodeError(ErrorCode.HANDSHAKE, "08S01", `${message}; the proxy closed the connection`), (sequenceId + 1) & 0xff));
    backend.destroy();
  };

  const settle = (outcome: Promise<InterceptOutcome>, sequenceId: number) => {
    outcome.then(
      (result) => {
        if (closed) return;
        apply(result, sequenceId, writeBackend);
        const rest = Buffer.concat(held ?? []);
        held = null;
        const again = rest.length > 0 ? onClientData(rest, writeBackend) : undefined;
        if (again !== "hold") o.clientReads.release();
      },
      () => close(),
    );
  };

  // `chunk` is the relay's read buffer, reused by the next read: what is held back is copied.
  const onClientData: ChunkFilter = (chunk, send) => {
    if (held) {
      held.push(Buffer.from(chunk));
      return "hold";
    }
    o.onActivity();
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let offset = 0;
    let forwardFrom = 0;
    while (offset < data.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, data.length - offset);
        offset += take;
        remaining -= take;
        continue;
      }
      // At a packet start: its header, and the command byte unless the packet is empty (the end of a
      // LOAD DATA LOCAL file is an empty packet and must not be held back).
      const available = data.length - offset;
      if (available < 4 || (available < 5 && data.readUIntLE(offset, 3) > 0)) {
        send(data.subarray(forwardFrom, offset));
        pending = Buffer.from(data.subarray(offset));
        return;
      }
      const length = data.readUIntLE(offset, 3);
      const sequenceId = data[offset + 3]!;
      const command = length > 0 ? data[offset + 4]! : -1;
      // Sequence ids wrap: in a LOAD DATA LOCAL upload the packet after 255 has id 0 again, and the upload
      // goes on until an empty packet. So an id 0 right after a non-empty 255 is file data, not a command.
      const wrapped = sequenceId === 0 && previousSequence === 255 && previousLength > 0;
      previousSequence = sequenceId;
      previousLength = length;
      const isCommand = !continuation && sequenceId === 0;
      continuation = length === MAX_PAYLOAD;
      if (isCommand && command === Command.QUIT && !wrapped && o.onQuit) {
        send(data.subarray(forwardFrom, offset));
        if (o.onQuit()) {
          letGo();
          return "hold";
        }
        forwardFrom = offset;
      }
      if (isCommand && command === Command.CHANGE_USER && (wrapped || length > MAX_CHANGE_USER)) {
        // Never pass a COM_CHANGE_USER to the compute unchecked (it would re-authenticate the session there,
        // e.g. through the Unix socket as the control plane's account). Data that merely looks like one
        // at a wrap point is vanishingly rare (a file byte 0x11 every 255 packets): the session ends.
        send(data.subarray(forwardFrom, offset));
        endWithError(wrapped ? "ambiguous packet after sequence id 255 (COM_CHANGE_USER or LOAD DATA contents)" : "COM_CHANGE_USER packet too large", sequenceId);
        return "hold";
      }
      const candidate =
        isCommand &&
        !wrapped &&
        (command === Command.CHANGE_USER ||
          (length <= MAX_INTERCEPT &&
            (command === Command.PROCESS_KILL ||
              // A short query that starts with K (or whose start is not at hand yet): waited for whole (at
              // most MAX_INTERCEPT bytes) to tell.
              (command === Command.QUERY && startsWithK(data, offset + 5, offset + 4 + length) !== false))));
      if (candidate) {
        if (data.length - offset < 4 + length) {
          send(data.subarray(forwardFrom, offset));
          pending = Buffer.from(data.subarray(offset));
          return;
        }
        const packet = data.subarray(offset, offset + 4 + length);
        send(data.subarray(forwardFrom, offset));
        const outcome = intercept(Buffer.from(packet));
        if (outcome instanceof Promise) {
          held = [Buffer.from(data.subarray(offset + 4 + length))];
          settle(outcome, sequenceId);
          return "hold";
        }
        if (outcome) apply(outcome, sequenceId, send);
        else send(packet);
        offset += 4 + length;
        forwardFrom = offset;
        continue;
      }
      remaining = 4 + length;
    }
    send(data.subarray(forwardFrom, offset));
  };

  /** The session ended with the compute connection kept by the caller: only the client is closed. */
  const letGo = () => {
    closed = true;
    backend.off("close", close);
    backend.off("error", close);
    client.destroy();
    o.onClose();
  };

  client.on("close", close);
  client.on("error", close);
  backend.on("close", close);
  backend.on("error", close);
  if (o.backendLeftover.length > 0) {
    observe?.toClient(o.backendLeftover);
    client.write(o.backendLeftover);
  }
  if (o.clientLeftover.length > 0) onClientData(o.clientLeftover, writeBackend);
  let observedForward: ((part: Buffer) => void) | null = null; // the relay's writer is the same for every chunk
  const filter: ChunkFilter = observe ? (chunk, forward) => onClientData(chunk, (observedForward ??= observed(forward))) : onClientData;
  o.clientReads.relayTo(backend, filter, o.transfer?.toCompute);
}
