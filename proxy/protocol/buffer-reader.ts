// A bounds-checked cursor over a packet payload. Every read past the end throws, so a truncated or
// malicious packet becomes an error reply, never an out-of-range read.

export class MalformedPacketError extends Error {}

export class BufferReader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.buffer.length) throw new MalformedPacketError("packet ended early");
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buffer.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buffer.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  /** A NUL-terminated string (the NUL is consumed). */
  nulString(): Buffer {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new MalformedPacketError("string is not terminated");
    const v = this.buffer.subarray(this.offset, end);
    this.offset = end + 1;
    return v;
  }

  /** A NUL-terminated string, or the rest of the packet when it has no NUL (some clients omit the last one). */
  nulOrRest(): Buffer {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) return this.rest();
    return this.nulString();
  }

  rest(): Buffer {
    const v = this.buffer.subarray(this.offset);
    this.offset = this.buffer.length;
    return v;
  }

  /** Length-encoded integer; lengths beyond 2^32 are refused (nothing in a handshake is that long). */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) {
      this.need(3);
      const v = this.buffer.readUIntLE(this.offset, 3);
      this.offset += 3;
      return v;
    }
    if (first === 0xfe) {
      const low = this.u32();
      const high = this.u32();
      if (high !== 0) throw new MalformedPacketError("length-encoded integer too large");
      return low;
    }
    throw new MalformedPacketError("invalid length-encoded integer");
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }

  /** Length-encoded integer of any size (affected rows and insert ids of OK packets reach 2^64 - 1). */
  lenencBig(): bigint {
    const first = this.u8();
    if (first < 0xfb) return BigInt(first);
    if (first === 0xfc) return BigInt(this.u16());
    if (first === 0xfd) {
      this.need(3);
      const v = this.buffer.readUIntLE(this.offset, 3);
      this.offset += 3;
      return BigInt(v);
    }
    if (first === 0xfe) {
      this.need(8);
      const v = this.buffer.readBigUInt64LE(this.offset);
      this.offset += 8;
      return v;
    }
    throw new MalformedPacketError("invalid length-encoded integer");
  }
}

export function lenencInt(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n <= 0xffff) {
    const b = Buffer.alloc(3);
    b[0] = 0xfc;
    b.writeUInt16LE(n, 1);
    return b;
  }
  if (n <= 0xffffff) {
    const b = Buffer.alloc(4);
    b[0] = 0xfd;
    b.writeUIntLE(n, 1, 3);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeUInt32LE(n >>> 0, 1);
  b.writeUInt32LE(Math.floor(n / 2 ** 32), 5);
  return b;
}
