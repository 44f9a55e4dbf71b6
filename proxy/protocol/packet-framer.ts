import { MAX_PAYLOAD as MAX_PAYLOAD_SIZE } from "./constants";

// The product runs TypeScript through tsx, which turns imported bindings into getters: the follower's hot
// path reads module-local copies of them (about a fifth of its time per query otherwise).
const MAX_PAYLOAD = MAX_PAYLOAD_SIZE;

// Splits a byte stream (either direction, after the handshake) into logical packets: a payload of 16 MiB
// or more arrives as fragments of exactly MAX_PAYLOAD bytes and ends with a shorter one (possibly empty).
// Only small payloads are kept whole: the follower needs OK/ERR/EOF packets, column counts and prepare
// replies, and of a row only its first byte, so a 1 GiB BLOB costs nothing extra.

export interface FramedPacket {
  /** Sequence id of the first fragment. */
  readonly sequenceId: number;
  /** Length of the whole logical payload. */
  readonly length: number;
  /** The payload's first byte (undefined for an empty payload). */
  readonly firstByte: number | undefined;
  /** The whole payload when it is at most `keepLimit` bytes, else null. Valid while the callback runs. */
  readonly payload: Buffer | null;
}

/**
 * A packet that lies whole in one chunk: its payload is sliced only if the reader asks (a row's reader
 * looks at its first byte only), which keeps the common case free of allocations but this small object.
 */
class ChunkPacket implements FramedPacket {
  constructor(
    private readonly chunk: Buffer,
    private readonly start: number,
    readonly length: number,
    readonly sequenceId: number,
    private readonly keepLimit: number,
  ) {}

  get firstByte(): number | undefined {
    return this.length > 0 ? this.chunk[this.start] : undefined;
  }

  get payload(): Buffer | null {
    return this.length <= this.keepLimit ? this.chunk.subarray(this.start, this.start + this.length) : null;
  }
}

export class PacketFramer {
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private fragmentLeft = -1; // -1: reading a header
  private fragmentFull = false;
  private current: { sequenceId: number; length: number; firstByte: number | undefined; parts: Buffer[] | null } | null = null;

  constructor(
    private readonly onPacket: (packet: FramedPacket) => void,
    private readonly keepLimit = 64 * 1024,
  ) {}

  /** Whether the stream stands between packets (no partial packet buffered). */
  get idle(): boolean {
    return this.fragmentLeft < 0 && this.headerFill === 0 && this.current === null;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.fragmentLeft < 0 && this.headerFill === 0 && this.current === null && chunk.length - offset >= 4) {
        // Fast path: a whole packet in this chunk.
        const length = chunk[offset]! | (chunk[offset + 1]! << 8) | (chunk[offset + 2]! << 16);
        if (length < MAX_PAYLOAD && chunk.length - offset - 4 >= length) {
          this.onPacket(new ChunkPacket(chunk, offset + 4, length, chunk[offset + 3]!, this.keepLimit));
          offset += 4 + length;
          continue;
        }
      }
      if (this.fragmentLeft < 0) {
        const n = Math.min(4 - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + n);
        this.headerFill += n;
        offset += n;
        if (this.headerFill < 4) return;
        this.headerFill = 0;
        this.startFragment(this.header.readUIntLE(0, 3), this.header[3]!);
        continue;
      }
      const n = Math.min(this.fragmentLeft, chunk.length - offset);
      this.take(chunk.subarray(offset, offset + n));
      offset += n;
      this.fragmentLeft -= n;
      if (this.fragmentLeft === 0) this.endFragment();
    }
  }

  private startFragment(length: number, sequenceId: number) {
    this.current ??= { sequenceId, length: 0, firstByte: undefined, parts: [] };
    this.fragmentFull = length === MAX_PAYLOAD;
    this.fragmentLeft = length;
    if (length === 0) this.endFragment();
  }

  private take(bytes: Buffer) {
    const c = this.current!;
    if (c.length === 0 && bytes.length > 0) c.firstByte = bytes[0];
    c.length += bytes.length;
    if (c.parts && c.length <= this.keepLimit) c.parts.push(bytes);
    else c.parts = null;
  }

  private endFragment() {
    this.fragmentLeft = -1;
    if (this.fragmentFull) return; // the payload continues in the next fragment
    const c = this.current!;
    this.current = null;
    const payload = c.parts === null ? null : c.parts.length === 1 ? c.parts[0]! : Buffer.concat(c.parts);
    this.onPacket({ sequenceId: c.sequenceId, length: c.length, firstByte: c.firstByte, payload });
  }
}
