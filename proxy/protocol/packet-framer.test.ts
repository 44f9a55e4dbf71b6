import { describe, expect, it } from "vitest";
import { MAX_PAYLOAD } from "./constants";
import { encodePacket } from "./packet";
import { PacketFramer, type FramedPacket } from "./packet-framer";

function frame(chunks: Buffer[], keepLimit?: number): { packets: FramedPacket[]; framer: PacketFramer } {
  const packets: FramedPacket[] = [];
  const framer = new PacketFramer(
    (p) => packets.push({ sequenceId: p.sequenceId, length: p.length, firstByte: p.firstByte, payload: p.payload && Buffer.from(p.payload) }),
    keepLimit,
  );
  for (const chunk of chunks) framer.push(chunk);
  return { packets, framer };
}

describe("PacketFramer", () => {
  const stream = Buffer.concat([encodePacket(Buffer.from("\x03SELECT 1"), 0), encodePacket(Buffer.alloc(0), 3), encodePacket(Buffer.from([0xfe, 0, 0, 2, 0]), 4)]);

  it("finds the same packets whether the bytes come at once or one by one", () => {
    const whole = frame([stream]).packets;
    const bytewise = frame([...stream].map((b) => Buffer.from([b]))).packets;
    expect(bytewise).toEqual(whole);
    expect(whole.map((p) => [p.sequenceId, p.length, p.firstByte])).toEqual([
      [0, 9, 0x03],
      [3, 0, undefined],
      [4, 5, 0xfe],
    ]);
    expect(whole[0]!.payload!.toString()).toBe("\x03SELECT 1");
  });

  it("says when it stands between packets", () => {
    const { framer } = frame([stream.subarray(0, 6)]);
    expect(framer.idle).toBe(false);
    framer.push(stream.subarray(6));
    expect(framer.idle).toBe(true);
  });

  it("joins a payload of 16 MiB and more from its fragments, keeping only the first byte when it is large", () => {
    const big = Buffer.alloc(MAX_PAYLOAD + 10, 0x41);
    big[0] = 0xfe;
    const header = (length: number, seq: number) => {
      const h = Buffer.alloc(4);
      h.writeUIntLE(length, 0, 3);
      h[3] = seq;
      return h;
    };
    const bytes = Buffer.concat([header(MAX_PAYLOAD, 7), big.subarray(0, MAX_PAYLOAD), header(10, 8), big.subarray(MAX_PAYLOAD), encodePacket(Buffer.from([0x00]), 9)]);
    const { packets } = frame([bytes.subarray(0, 100_000), bytes.subarray(100_000)]);
    expect(packets.map((p) => [p.sequenceId, p.length, p.firstByte, p.payload === null])).toEqual([
      [7, MAX_PAYLOAD + 10, 0xfe, true],
      [9, 1, 0x00, false],
    ]);
  });

  it("ends a payload of exactly 16 MiB - 1 bytes with an empty fragment", () => {
    const header = Buffer.alloc(4);
    header.writeUIntLE(MAX_PAYLOAD, 0, 3);
    const bytes = Buffer.concat([header, Buffer.alloc(MAX_PAYLOAD, 1), Buffer.from([0, 0, 0, 1])]);
    const { packets } = frame([bytes]);
    expect(packets.map((p) => p.length)).toEqual([MAX_PAYLOAD]);
  });

  it("drops the bytes of a payload above its keep limit", () => {
    const { packets } = frame([encodePacket(Buffer.alloc(100, 7), 0)], 50);
    expect(packets[0]).toMatchObject({ length: 100, firstByte: 7, payload: null });
  });
});
