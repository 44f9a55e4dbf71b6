import { describe, expect, it } from "vitest";
import { Capability, NATIVE_PASSWORD } from "./protocol/constants";
import type { HandshakeResponse } from "./protocol/handshake";
import { poolKey, type PoolKeyParts } from "./server-pool";

// The pool's key: two client sessions share pooled compute connections only when a login for one would be
// the same login for the other.

const client: HandshakeResponse = {
  capabilities: Capability.LONG_PASSWORD | Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.CONNECT_WITH_DB,
  extendedCapabilities: 0,
  maxPacketSize: 16 * 1024 * 1024,
  collation: 45,
  user: "wispy-river-4821.app",
  authResponse: Buffer.alloc(20, 1),
  database: "main",
  authPlugin: NATIVE_PASSWORD,
  connectAttributes: null,
};

const parts: PoolKeyParts = {
  computeId: "c1",
  address: { host: "127.0.0.1", port: 3310, socketPath: "/data/c1/mysqld.sock" },
  role: "app",
  doubleHash: Buffer.alloc(20, 7),
  client,
};

const withClient = (change: Partial<HandshakeResponse>) => poolKey({ ...parts, client: { ...client, ...change } });

describe("poolKey", () => {
  it("is the same for the same login, whatever the client's token, attributes, TLS or user spelling", () => {
    expect(withClient({ authResponse: Buffer.alloc(20, 2), connectAttributes: Buffer.from([0]), user: "app" })).toBe(poolKey(parts));
    expect(withClient({ capabilities: client.capabilities | Capability.SSL | Capability.CONNECT_ATTRS })).toBe(poolKey(parts));
  });

  it("differs for another compute, address, role, password, database, collation or packet-shaping capability", () => {
    const key = poolKey(parts);
    const others = [
      poolKey({ ...parts, computeId: "c2" }),
      poolKey({ ...parts, address: { ...parts.address, port: 3311 } }),
      poolKey({ ...parts, address: { ...parts.address, socketPath: null } }),
      poolKey({ ...parts, role: "reporting" }),
      poolKey({ ...parts, doubleHash: Buffer.alloc(20, 8) }),
      withClient({ database: "other" }),
      withClient({ database: null, capabilities: client.capabilities & ~Capability.CONNECT_WITH_DB }),
      withClient({ collation: 224 }),
      withClient({ capabilities: client.capabilities | Capability.DEPRECATE_EOF }),
      withClient({ capabilities: client.capabilities | Capability.MULTI_STATEMENTS }),
      withClient({ capabilities: client.capabilities | Capability.FOUND_ROWS }),
      withClient({ extendedCapabilities: 4 }),
    ];
    for (const other of others) expect(other).not.toBe(key);
    expect(new Set(others).size).toBe(others.length);
  });
});
