import type { Duplex } from "node:stream";
import { Command, ErrorCode, MAX_PAYLOAD } from "./protocol/constants";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { formatKill, parseKill } from "./kill";
import type { SessionRegistry } from "./sessions";
import type { ChunkFilter, ReadSide } from "./relay-socket";

// The byte pump between a client and its compute once both are logged in. The compute's bytes go to the
// client untouched and unparsed. The client's bytes are forwarded in the chunks they arrive in; the pump
// only follows packet boundaries so that it can recognise the few commands it must handle itself:
//   - KILL [QUERY] <id> (as a query or COM_PROCESS_KILL): the id the client knows is the proxy's;
//     it is translated to the compute's thread id, or refused if it is not a session of this project;
//   - COM_CHANGE_USER: the client answered the proxy's scramble, which the compute cannot check; the
//     session checks it (`changeUser`) and sends the compute its own COM_CHANGE_USER, or answers the
//     client with an error. Reading from the client waits meanwhile, so nothing overtakes it.
// Only packets with sequence id 0 start a command, so LOAD DATA LOCAL contents and long-data packets are
// never mistaken for one.

/** Statements longer than this are never a KILL worth translating: forwarded as they are. */
const MAX_INTERCEPT = 96;
/** A COM_CHANGE_USER carries connect attributes (at most 64 KiB of them). */
const MAX_CHANGE_USER = 70 * 1024;

/** What to do with a client's COM_CHANGE_USER: a packet for the compute, or the client's answer. */
export type ChangeUserOutcome = { toCompute: Buffer } | { toClient: Buffer };

export interface PumpOptions {
  client: Duplex;
  /** The client side's reads (a RelaySocket for plain TCP, 'data' events for TLS). */
  clientReads: ReadSide;
  backend: Duplex;
  /** The compute side's reads. */
  computeReads: ReadSide;
  projectId: string;
  registry: SessionRegistry;
  /** Bytes already received from the client after its handshake. */
  clientLeftover: Buffer;
  /** Bytes already received from the compute after its OK. */
  backendLeftover: Buffer;
  /** Check a COM_CHANGE_USER packet (header included) and say what to send where. */
  changeUser: (packet: Buffer) => Promise<ChangeUserOutcome>;
  onActivity: () => void;
  onClose: () => void;
}

/** Whether the statement's first non-blank character (looked for in the bytes at hand) is a K. */
function startsWithK(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < Math.min(end, data.length, start + 16); i++) {
    const c = data[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x4b || c === 0x6b;
  }
  return false;
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
  o.computeReads.relayTo(client);

  // client -> compute: follow packet boundaries, forward everything that is not ours in arrival chunks.
  let pending: Buffer | null = null; // an incomplete packet start we need to see whole
  let remaining = 0; // bytes of the current packet still to forward
  let continuation = false; // the current packet continues a payload of 16 MiB or more

  const reply = (payload: Buffer, sequenceId: number) => client.write(encodePacket(payload, sequenceId));

  /** Handle a whole command packet that may be ours. Returns true when it was consumed. */
  const intercept = (packet: Buffer, send: (part: Buffer) => void): boolean => {
    const sequenceId = packet[3]!;
    const command = packet[4];
    let targetId: number | null = null;
    let statement: ReturnType<typeof parseKill> = null;
    if (command === Command.PROCESS_KILL && packet.length >= 9) {
      targetId = packet.readUInt32LE(5);
      statement = { hard: null, query: false, id: targetId };
    } else if (command === Command.QUERY) {
      statement = parseKill(packet.subarray(5).toString("utf8"));
      targetId = statement?.id ?? null;
    }
    if (targetId === null || !statement) return false;
    const target = o.registry.get(targetId);
    if (!target || target.projectId !== o.projectId) {
      reply(encodeError(ErrorCode.NO_SUCH_THREAD, "HY000", `Unknown thread id: ${targetId}`), sequenceId + 1);
      return true;
    }
    send(encodePacket(Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(formatKill(statement, target.backendThreadId))]), sequenceId));
    return true;
  };

  // Client bytes read while a COM_CHANGE_USER is checked (copies), processed once it is done.
  let held: Buffer[] | null = null;

  const changeUser = (packet: Buffer) => {
    o.changeUser(packet).then(
      (outcome) => {
        if (closed) return;
        if ("toCompute" in outcome) backend.write(outcome.toCompute);
        else client.write(outcome.toClient);
        const rest = Buffer.concat(held ?? []);
        held = null;
        const again = rest.length > 0 ? onClientData(rest, (part) => backend.write(part)) : undefined;
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
      const candidate =
        !continuation &&
        sequenceId === 0 &&
        ((command === Command.CHANGE_USER && length <= MAX_CHANGE_USER) ||
          (length <= MAX_INTERCEPT &&
            (command === Command.PROCESS_KILL || (command === Command.QUERY && startsWithK(data, offset + 5, offset + 4 + length)))));
      continuation = length === MAX_PAYLOAD;
      if (candidate) {
        if (data.length - offset < 4 + length) {
          send(data.subarray(forwardFrom, offset));
          pending = Buffer.from(data.subarray(offset));
          return;
        }
        const packet = data.subarray(offset, offset + 4 + length);
        send(data.subarray(forwardFrom, offset));
        if (command === Command.CHANGE_USER) {
          held = [Buffer.from(data.subarray(offset + 4 + length))];
          changeUser(Buffer.from(packet));
          return "hold";
        }
        if (!intercept(packet, send)) send(packet);
        offset += 4 + length;
        forwardFrom = offset;
        continue;
      }
      remaining = 4 + length;
    }
    send(data.subarray(forwardFrom, offset));
  };

  client.on("close", close);
  client.on("error", close);
  backend.on("close", close);
  backend.on("error", close);
  if (o.backendLeftover.length > 0) client.write(o.backendLeftover);
  if (o.clientLeftover.length > 0) onClientData(o.clientLeftover, (part) => backend.write(part));
  o.clientReads.relayTo(backend, onClientData);
}
