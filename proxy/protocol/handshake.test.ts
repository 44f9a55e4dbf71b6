import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { Capability } from "./constants";
import {
  decodeError,
  decodeGreeting,
  decodeHandshakeResponse,
  encodeError,
  encodeGreeting,
  encodeHandshakeResponse,
  generateScramble,
  isSslRequest,
  type HandshakeResponse,
} from "./handshake";
import { MalformedPacketError } from "./buffer-reader";
import { nativeToken, nativeTokenFromStage1, parseStoredHash, verifyNativeToken } from "./native-password";
import { PacketCollector, PacketTooLargeError, encodePacket } from "./packet";
import { nativePasswordHash } from "@/server/auth/native-password";

const CAPS =
  Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_WITH_DB |
  Capability.CONNECT_ATTRS | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.DEPRECATE_EOF;

describe("greeting", () => {
  it("round-trips MariaDB's form with extended capabilities", () => {
    const g = {
      serverVersion: "5.5.5-10.11.19-MariaDB",
      connectionId: 0x01020304,
      scramble: generateScramble(),
      capabilities: CAPS,
      extendedCapabilities: 0x1d,
      collation: 224,
      status: 2,
      authPlugin: "mysql_native_password",
    };
    expect(decodeGreeting(encodeGreeting(g))).toEqual(g);
  });

  it("makes printable scrambles without NUL", () => {
    for (let i = 0; i < 100; i++) {
      const s = generateScramble();
      expect(s).toHaveLength(20);
      expect([...s].every((b) => b >= 33 && b <= 126)).toBe(true);
    }
  });
});

describe("handshake response", () => {
  const response: HandshakeResponse = {
    capabilities: CAPS,
    extendedCapabilities: 0x5,
    maxPacketSize: 16 * 1024 * 1024,
    collation: 45,
    user: "wispy-river-4821.app",
    authResponse: crypto.randomBytes(20),
    database: "main",
    authPlugin: "mysql_native_password",
    connectAttributes: Buffer.from([5, 3, 0x5f, 0x6f, 0x73, 0x00]).subarray(0, 6),
  };

  it("round-trips every field the proxy passes on", () => {
    const attrs = Buffer.concat([Buffer.from([4]), Buffer.from([1, 0x61, 1, 0x62])]);
    const r = { ...response, connectAttributes: attrs };
    expect(decodeHandshakeResponse(encodeHandshakeResponse(r))).toEqual(r);
  });

  it("refuses truncated responses with a malformed-packet error, at every length", () => {
    const full = encodeHandshakeResponse({ ...response, connectAttributes: null });
    for (let cut = 0; cut < 36; cut++) {
      expect(() => decodeHandshakeResponse(full.subarray(0, cut)), `cut at ${cut}`).toThrow(MalformedPacketError);
    }
  });

  it("recognises an SSLRequest", () => {
    const ssl = Buffer.alloc(32);
    ssl.writeUInt32LE(CAPS | Capability.SSL, 0);
    expect(isSslRequest(ssl)).toBe(true);
    ssl.writeUInt32LE(CAPS, 0);
    expect(isSslRequest(ssl)).toBe(false);
  });
});

describe("mysql_native_password", () => {
  it("verifies a client's token against the stored hash and recovers SHA1(password)", () => {
    const scramble = generateScramble();
    const doubleHash = parseStoredHash(nativePasswordHash("s3cret pw"))!;
    const stage1 = verifyNativeToken(scramble, nativeToken(scramble, "s3cret pw"), doubleHash);
    expect(stage1).toEqual(crypto.createHash("sha1").update("s3cret pw").digest());
    // ... which answers another server's scramble as the password would
    const other = generateScramble();
    expect(nativeTokenFromStage1(other, stage1!)).toEqual(nativeToken(other, "s3cret pw"));
  });

  it("refuses a wrong password, an empty token and a malformed stored hash", () => {
    const scramble = generateScramble();
    const doubleHash = parseStoredHash(nativePasswordHash("right"))!;
    expect(verifyNativeToken(scramble, nativeToken(scramble, "wrong"), doubleHash)).toBeNull();
    expect(verifyNativeToken(scramble, Buffer.alloc(0), doubleHash)).toBeNull();
    expect(parseStoredHash("plaintext")).toBeNull();
  });
});

describe("packets", () => {
  it("collects packets across chunk boundaries and refuses oversized ones at the header", () => {
    const c = new PacketCollector(100);
    const bytes = Buffer.concat([encodePacket(Buffer.from("hello"), 1), encodePacket(Buffer.from("world"), 2)]);
    c.push(bytes.subarray(0, 3));
    expect(c.next()).toBeNull();
    c.push(bytes.subarray(3));
    expect(c.next()).toEqual({ sequenceId: 1, payload: Buffer.from("hello") });
    expect(c.next()).toEqual({ sequenceId: 2, payload: Buffer.from("world") });
    const big = new PacketCollector(100);
    big.push(Buffer.from([0xff, 0xff, 0xff, 0]));
    expect(() => big.next()).toThrow(PacketTooLargeError);
  });

  it("encodes and decodes error packets", () => {
    expect(decodeError(encodeError(1045, "28000", "Access denied"))).toEqual({ code: 1045, sqlState: "28000", message: "Access denied" });
  });
});
