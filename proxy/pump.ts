import { Duplex } from "node:stream";
import { Command, ErrorCode, MAX_PAYLOAD } from "./protocol/constants";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { signalQuery, type ProxyError } from "./protocol/signal";
import { KILLED_BY_OWNER } from "@/server/proxy-activity/constants";
import { formatKill, parseKill, type KillStatement } from "./kill";
import type { ByteCounter, ChunkFilter, ReadSide } from "./relay-socket";
import { STATEMENT_COMMANDS } from "./protocol/statement-packets";

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
// A followed session (proxy/parking-session.ts) also sees every part written to the compute (`toCompute`:
// it feeds its follower and maps statement ids), filters the compute's replies (`computeFilter`), and may
// close a gate: while its compute connection is being parked, or is parked, each command is handed to the
// gate whole (`gate.command`), which answers it itself or brings a compute connection back
// (`attachCompute`) and lets it through.

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
  /** The compute connection; null for a session that starts parked (its gate closed, attachCompute later). */
  backend: Duplex | null;
  /** The compute side's reads (null with no compute connection). */
  computeReads: ReadSide | null;
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
  resolveKill: (id: number, queryOnly: boolean) => number | null | Promise<number | null>;
  onActivity: () => void;
  onClose: () => void;
  /** Bytes relayed each way, for metering (the activity reporter's counters of this compute). */
  transfer?: { toCompute: ByteCounter; toClient: ByteCounter };
  /** Each part about to be written to the compute, in order; returns the bytes to write instead. */
  toCompute?: (part: Buffer) => Buffer;
  /** Keep each statement command's first 9 bytes (header, command, id) in one part (ids are being mapped). */
  wholeStatementIds?: () => boolean;
  /** The compute -> client filter (default: untouched). */
  computeFilter?: ChunkFilter;
  gate?: CommandGate;
  /**
   * The client's COM_QUIT: true when the caller keeps the compute connection (proxy/server-pool.ts). The
   * QUIT is then not forwarded; the pump lets go of the compute connection (its listeners) without closing
   * it, closes the client and calls onClose.
   */
  onQuit?: () => boolean;
}

/** Where commands go while the session has no compute connection to send them to. */
export interface CommandGate {
  closed(): boolean;
  /**
   * A command arrived while closed: `packet` is it whole (header included, a copy) when it is at most
   * GATED_WHOLE bytes, else null. "answered": the gate answered it, it is dropped; "relay": a compute
   * connection is attached again, the command goes to it; "resumed": it went already (PumpHandle.resume).
   */
  command(packet: Buffer | null): Promise<GateOutcome>;
}

export type GateOutcome = "answered" | "relay" | "resumed";

/** Commands up to this size reach a closed gate whole (pings, validation queries, COM_CHANGE_USER). */
export const GATED_WHOLE = 70 * 1024;

export interface PumpHandle {
  /** Whether a command is being received, or waits for a look-up (not a point to park at). */
  readonly busy: boolean;
  /** Stop relaying to the compute connection (the caller closes it); the client stays. */
  detachCompute(): void;
  /** Relay to another compute connection from now on. */
  attachCompute(backend: Duplex, computeReads: ReadSide, leftover: Buffer): void;
  /**
   * The command waiting at the closed gate goes to the compute connection attached meanwhile, now rather
   * than when the gate's promise settles (which then says "resumed"); false when no command waits there.
   */
  resume(): boolean;
}

/** A target that takes (and drops) what is written: the client's reads need one before a compute is attached. */
function discarding(): Duplex {
  return new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
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

export function pump(o: PumpOptions): PumpHandle {
  const { client } = o;
  let backend: Duplex | null = o.backend;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    backend?.destroy();
    o.onClose();
  };
  const toCompute = o.toCompute ?? ((part: Buffer) => part);
  const write = (part: Buffer) => backend?.write(toCompute(part));

  // compute -> client: untouched (unless filtered), straight from the compute socket's read buffer.
  o.computeReads?.relayTo(client, o.computeFilter, o.transfer?.toClient);

  // client -> compute: follow packet boundaries, forward everything that is not ours in arrival chunks.
  let pending: Buffer | null = null; // an incomplete packet start we need to see whole
  let remaining = 0; // bytes of the current packet still to forward
  let continuation = false; // the current packet continues a payload of 16 MiB or more

  /** A KILL: the statement translated for the compute, or an error for the client. */
  const killOutcome = (threadId: number | null, statement: KillStatement, sequenceId: number): InterceptOutcome => {
    if (threadId === null) {
      return { error: { code: ErrorCode.NO_SUCH_THREAD, sqlState: "HY000", message: `Unknown thread id: ${statement.id}` } };
    }
    if (threadId === KILLED_BY_OWNER) {
      // A parked session, killed (or left alone by KILL QUERY) by its owner: the KILL's OK, in order, from
      // a statement that does nothing; the statements after it run as sent.
      const query = Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(`DO 0${statement.rest}`)]);
      return { toCompute: encodePacket(query, sequenceId) };
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
    const target = o.resolveKill(kill.id, kill.query);
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
    backend?.destroy();
  };

  const settle = (outcome: Promise<InterceptOutcome>, sequenceId: number) => {
    outcome.then(
      (result) => {
        if (closed) return;
        apply(result, sequenceId, write);
        const rest = Buffer.concat(held ?? []);
        held = null;
        const again = rest.length > 0 ? onClientData(rest, write) : undefined;
        if (again !== "hold") o.clientReads.release();
      },
      () => close(),
    );
  };

  // What lets the command waiting at the closed gate through, while one waits there.
  let waitingAtGate: ((result: "answered" | "relay") => void) | null = null;

  /** A command at a closed gate: hold everything from its start until the gate decides. */
  const gated = (gate: CommandGate, from: Buffer, whole: boolean, length: number) => {
    held = [];
    const decided = (waitingAtGate = (result) => {
      waitingAtGate = null;
      if (closed) return;
      const rest = held && held.length > 0 ? Buffer.concat([from, ...held]) : from;
      held = null;
      const next = result === "answered" ? rest.subarray(4 + length) : rest;
      const again = next.length > 0 ? onClientData(next, write) : undefined;
      if (again !== "hold") o.clientReads.release();
    });
    gate.command(whole ? Buffer.from(from.subarray(0, 4 + length)) : null).then(
      (result) => {
        if (result !== "resumed" && waitingAtGate === decided) decided(result);
      },
      () => close(),
    );
    return "hold" as const;
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
      if (isCommand && !wrapped && o.gate?.closed()) {
        // No compute connection to send it to: the gate takes it (whole when small).
        const whole = length <= GATED_WHOLE;
        if (whole && available < 4 + length) {
          send(data.subarray(forwardFrom, offset));
          pending = Buffer.from(data.subarray(offset));
          return;
        }
        send(data.subarray(forwardFrom, offset));
        return gated(o.gate, Buffer.from(data.subarray(offset)), whole, length);
      }
      if (isCommand && available < 9 && length >= 5 && STATEMENT_COMMANDS.has(command) && o.wholeStatementIds?.()) {
        // Its id is about to be rewritten: wait for all of it.
        send(data.subarray(forwardFrom, offset));
        pending = Buffer.from(data.subarray(offset));
        return;
      }
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
    backend?.off("close", close);
    backend?.off("error", close);
    client.destroy();
    o.onClose();
  };

  const relayClient = (target: Duplex) => o.clientReads.relayTo(target, (chunk, send) => onClientData(chunk, (part) => send(toCompute(part))), o.transfer?.toCompute);
  const sendLeftover = (leftover: Buffer) => {
    if (leftover.length === 0) return;
    if (o.computeFilter) o.computeFilter(leftover, (part) => client.write(part));
    else client.write(leftover);
  };

  client.on("close", close);
  client.on("error", close);
  o.backend?.on("close", close);
  o.backend?.on("error", close);
  sendLeftover(o.backendLeftover);
  if (o.clientLeftover.length > 0) onClientData(o.clientLeftover, write);
  // With no compute connection every command goes to the closed gate; nothing is written meanwhile.
  relayClient(o.backend ?? discarding());
  return {
    get busy() {
      return held !== null || pending !== null || remaining > 0;
    },
    detachCompute() {
      backend?.off("close", close);
      backend?.off("error", close);
      backend = null;
    },
    attachCompute(next, computeReads, leftover) {
      backend = next;
      next.on("close", close);
      next.on("error", close);
      computeReads.relayTo(client, o.computeFilter, o.transfer?.toClient);
      sendLeftover(leftover);
      relayClient(next);
    },
    resume() {
      if (!waitingAtGate) return false;
      waitingAtGate("relay");
      return true;
    },
  };
}
