import { describe, expect, it } from "vitest";
import { Capability } from "./constants";
import { decodeChangeUser, encodeChangeUser, type ChangeUser } from "./change-user";
import { lenencInt } from "./buffer-reader";

const MODERN = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS;

describe("COM_CHANGE_USER", () => {
  it("round-trips what a modern client sends, attributes included", () => {
    const attrs = Buffer.from("\x0c_client_name\x06mysql2", "latin1");
    const packet: ChangeUser = {
      user: "proj.reporting",
      authResponse: Buffer.alloc(20, 7),
      database: "main",
      collation: 45,
      authPlugin: "mysql_native_password",
      connectAttributes: Buffer.concat([lenencInt(attrs.length), attrs]),
    };
    const bytes = encodeChangeUser(packet, MODERN);
    expect(bytes[0]).toBe(0x11);
    expect(decodeChangeUser(bytes, MODERN)).toEqual(packet);
  });

  it("reads an old client's packet: token up to NUL, no collation, plugin or attributes", () => {
    const bytes = Buffer.concat([Buffer.from([0x11]), Buffer.from("app\0"), Buffer.from("secret\0"), Buffer.from("main\0")]);
    expect(decodeChangeUser(bytes, Capability.PROTOCOL_41)).toEqual({
      user: "app",
      authResponse: Buffer.from("secret"),
      database: "main",
      collation: null,
      authPlugin: null,
      connectAttributes: null,
    });
  });

  it("refuses a truncated packet", () => {
    expect(() => decodeChangeUser(Buffer.from([0x11, 0x61, 0x62]), MODERN)).toThrow();
  });
});
