import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import mysql from "mysql2/promise";
import { afterEach, describe, expect, it } from "vitest";
import { ensureSelfSignedPair } from "@/server/util/self-signed-tls";
import { ClientError } from "./client-error";
import { ErrorCode } from "./protocol/constants";
import { verifyNativeToken } from "./protocol/native-password";
import { initialServerInfo } from "./server-info";
import { ClientTransport, type ClientHello, type TransportSettings } from "./transport";

// The client side of the wire alone, with real clients (mysql2) over real sockets: what a client says in its
// handshake reaches the session, TLS is upgraded in place, and every way a handshake can end is answered.

/** mysql2's OK for a login: no rows, autocommit. */
const OK = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]);
const servers: net.Server[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A listener whose every connection runs `session` on a ClientTransport; resolves to its port. */
async function listen(settings: Partial<TransportSettings>, session: (t: ClientTransport) => Promise<void>): Promise<{ port: number; results: string[] }> {
  const results: string[] = [];
  const full: TransportSettings = {
    serverInfo: initialServerInfo(),
    tlsContext: null,
    tlsRequired: false,
    handshakeTimeoutMs: 5000,
    metrics: { handshake: (result) => results.push(result) },
    ...settings,
  };
  const server = net.createServer((socket) => {
    const transport = new ClientTransport(socket, full);
    session(transport).catch((error: unknown) => transport.fail(error, "127.0.0.1"));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, results };
}

/** Answers the login with OK, then every query with OK, until the client quits. */
async function acceptEveryone(t: ClientTransport, seen: { hello?: ClientHello; scramble?: Buffer; tls?: boolean; serverName?: string | null }) {
  seen.hello = await t.handshake(4242);
  seen.scramble = t.scramble;
  seen.tls = t.tls;
  seen.serverName = t.serverName;
  t.authenticated();
  t.complete(OK);
  const { socket } = t.handOver();
  socket.on("data", (data: Buffer) => {
    if (data[4] === 0x01) return socket.end(); // COM_QUIT
    socket.write(Buffer.concat([Buffer.from([OK.length, 0, 0, 1]), OK]));
  });
}

describe("client transport", () => {
  it("greets with the connection id and reads the client's user, database and native-password answer", async () => {
    const seen: Parameters<typeof acceptEveryone>[1] = {};
    const { port, results } = await listen({}, (t) => acceptEveryone(t, seen));
    const conn = await mysql.createConnection({ host: "127.0.0.1", port, user: "quiet-lake-12.app", password: "hunter2", database: "main" });
    expect(conn.threadId).toBe(4242);
    await conn.end();
    expect(seen.hello!.response.user).toBe("quiet-lake-12.app");
    expect(seen.hello!.response.database).toBe("main");
    expect(seen.tls).toBe(false);
    // The answer proves the password against the scramble this transport sent.
    const crypto = await import("node:crypto");
    const doubleHash = crypto.createHash("sha1").update(crypto.createHash("sha1").update("hunter2").digest()).digest();
    expect(verifyNativeToken(seen.scramble!, seen.hello!.token, doubleHash)).not.toBeNull();
    expect(results).toEqual(["ok"]);
  });

  it("upgrades to TLS on an SSLRequest and reports the server name the client asked for", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "transport-tls-"));
    try {
      const pair = ensureSelfSignedPair(dir);
      const tlsContext = tls.createSecureContext({ cert: fs.readFileSync(pair.cert), key: fs.readFileSync(pair.key) });
      const seen: Parameters<typeof acceptEveryone>[1] = {};
      const { port } = await listen({ tlsContext }, (t) => acceptEveryone(t, seen));
      const conn = await mysql.createConnection({
        host: "misty-field-7.localhost",
        stream: net.connect(port, "127.0.0.1"),
        user: "app",
        password: "x",
        ssl: { rejectUnauthorized: false },
      });
      await conn.query("DO 1");
      await conn.end();
      expect(seen.tls).toBe(true);
      expect(seen.serverName).toBe("misty-field-7.localhost");
      expect(seen.hello!.response.user).toBe("app");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a plain client where TLS is required, saying what to do", async () => {
    const { port, results } = await listen({ tlsRequired: true, tlsContext: null }, (t) => acceptEveryone(t, {}));
    const error = await mysql.createConnection({ host: "127.0.0.1", port, user: "a.app", password: "x" }).then(
      () => null,
      (e: { errno?: number; message: string }) => e,
    );
    expect(error?.errno).toBe(ErrorCode.SECURE_TRANSPORT_REQUIRED);
    expect(error?.message).toMatch(/connect with TLS/);
    expect(results).toEqual(["tls_required"]);
  });

  it("sends a session's refusal as the error packet that ends the handshake", async () => {
    const { port, results } = await listen({}, async (t) => {
      await t.handshake(1);
      throw new ClientError(ErrorCode.ACCESS_DENIED, "28000", "Access denied for user 'a.app'@'127.0.0.1' (using password: YES)", "auth_failed");
    });
    const error = await mysql.createConnection({ host: "127.0.0.1", port, user: "a.app", password: "x" }).then(
      () => null,
      (e: { errno?: number; sqlState?: string; message: string }) => e,
    );
    expect(error).toMatchObject({ errno: ErrorCode.ACCESS_DENIED, sqlState: "28000" });
    expect(results).toEqual(["auth_failed"]);
  });

  it("answers a malformed handshake with an error, drops a silent client at the timeout and a leaving one quietly", async () => {
    const { port, results } = await listen({ handshakeTimeoutMs: 300 }, async (t) => {
      await t.handshake(1);
    });
    const reply = (payload: Buffer | null) =>
      new Promise<Buffer>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let got = Buffer.alloc(0);
        let greeted = false;
        socket.on("data", (d: Buffer) => {
          if (!greeted) {
            greeted = true; // null: say nothing, until the proxy gives up
            if (payload) socket.write(Buffer.concat([Buffer.from([payload.length, 0, 0, 1]), payload]));
            return;
          }
          got = Buffer.concat([got, d]);
        });
        socket.on("close", () => resolve(got));
        socket.on("error", () => undefined);
      });
    const malformed = await reply(Buffer.from([0x01, 0x02]));
    expect(malformed[4]).toBe(0xff);
    expect(malformed.subarray(13).toString()).toMatch(/^Bad handshake/);
    const silent = await reply(null);
    expect(silent.length).toBe(0);
    const left = net.connect(port, "127.0.0.1");
    await new Promise((r) => left.once("data", r));
    left.destroy();
    await new Promise((r) => setTimeout(r, 100));
    // A probe that resets the connection (RST, as health checkers and load balancers do) has left too.
    const reset = net.connect(port, "127.0.0.1");
    await new Promise((r) => reset.once("data", r));
    reset.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(results).toEqual(["bad_handshake", "timeout", "closed", "closed"]);
  });
});
