import { MAX_PAYLOAD } from "./constants";

// Packet framing: 3-byte little-endian payload length, 1-byte sequence id, payload.

export interface Packet {
  sequenceId: number;
  payload: Buffer;
}

export function encodePacket(payload: Buffer, sequenceId: number): Buffer {
  if (payload.length >= MAX_PAYLOAD) throw new Error("payloads of 16 MiB and more are not produced by the proxy itself");
  const header = Buffer.allocUnsafe(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequenceId & 0xff;
  return Buffer.concat([header, payload]);
}

/**
 * Collects whole packets from a byte stream during the handshake, where every packet is small. A packet
 * whose declared length exceeds the limit is refused as soon as its header is seen, before any of it
 * is buffered.
 */
export class PacketCollector {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next whole packet, or null when more bytes are needed. Throws on an oversized packet. */
  next(): Packet | null {
    if (this.buffer.length < 4) return null;
    const length = this.buffer.readUIntLE(0, 3);
    if (length > this.maxPayload) throw new PacketTooLargeError(length, this.maxPayload);
    if (this.buffer.length < 4 + length) return null;
    const packet = { sequenceId: this.buffer[3]!, payload: this.buffer.subarray(4, 4 + length) };
    this.buffer = this.buffer.subarray(4 + length);
    return packet;
  }

  /** Bytes received beyond the packets taken so far (handed to the byte pump after the handshake). */
  rest(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  get buffered(): number {
    return this.buffer.length;
  }
}

export class PacketTooLargeError extends Error {
  constructor(length: number, max: number) {
    super(`packet of ${length} bytes during the handshake (limit ${max})`);
  }
}
