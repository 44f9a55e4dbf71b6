import crypto from "node:crypto";
import net from "node:net";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { RelaySocket } from "./relay-socket";

// A relay in miniature: clients connect to `front`, whose accepted sockets are adopted by RelaySocket and
// relayed to a connection to `back`, and back again. Checks what the proxy relies on: every byte arrives
// in order also when the far side reads slowly (reused read buffers must not be overwritten while a write
// still holds them), and the server's bookkeeping of adopted connections (close, drain) still works.

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** A front server relaying each accepted connection to backPort through adopted RelaySockets. */
async function relayServer(backPort: number): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((accepted) => {
    accepted.once("data", (first: Buffer) => {
      // Like the proxy: the handshake is read as a stream, then the connection is adopted.
      accepted.pause();
      const client = RelaySocket.adopt(accepted);
      if (!client) throw new Error("adopt refused a plain socket");
      const back = RelaySocket.connect("127.0.0.1", backPort);
      back.socket.write(first);
      client.relayTo(back.socket);
      back.relayTo(client.socket);
      client.socket.on("close", () => back.socket.destroy());
      back.socket.on("close", () => client.socket.destroy());
    });
  });
  return { port: await listen(server), server };
}

describe("RelaySocket", () => {
  it("relays 16 MiB both ways intact to a reader that stalls", async () => {
    const payload = crypto.randomBytes(16 * 1024 * 1024);
    const digest = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
    // The back server reads nothing for its first 300 ms (the relay's writes to it queue up), then echoes,
    // pausing whenever its own writes back wait.
    const backPort = await listen(
      net.createServer((socket) => {
        socket.pause();
        setTimeout(() => socket.resume(), 300);
        socket.on("data", (chunk: Buffer) => {
          if (!socket.write(chunk)) {
            socket.pause();
            socket.once("drain", () => setTimeout(() => socket.resume(), 2));
          }
        });
        socket.on("end", () => socket.end());
      }),
    );
    const { port } = await relayServer(backPort);
    const client = net.connect(port, "127.0.0.1");
    await once(client, "connect");
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const done = new Promise<void>((resolve) =>
      client.on("data", (chunk: Buffer) => {
        received.push(chunk);
        receivedBytes += chunk.length;
        if (receivedBytes >= payload.length) resolve();
      }),
    );
    // First in small pieces, so that the relay reads small chunks whose writes queue below the high-water
    // mark (where a reused buffer would be overwritten), then in large ones.
    const piece = (offset: number) => (offset < payload.length / 2 ? 3000 : 1024 * 1024);
    for (let offset = 0; offset < payload.length; offset += piece(offset)) {
      if (!client.write(payload.subarray(offset, offset + piece(offset)))) await once(client, "drain");
      else if (piece(offset) < 4096) await new Promise((r) => setImmediate(r));
    }
    await done;
    client.destroy();
    expect(receivedBytes).toBe(payload.length);
    expect(digest(Buffer.concat(received))).toBe(digest(payload));
  }, 60_000);

  it("keeps the server's count of an adopted connection until it closes", async () => {
    const backPort = await listen(net.createServer((socket) => socket.on("data", (d: Buffer) => socket.write(d))));
    const { port, server } = await relayServer(backPort);
    const client = net.connect(port, "127.0.0.1");
    client.write("hello");
    const [echo] = (await once(client, "data")) as [Buffer];
    expect(echo.toString()).toBe("hello");
    const count = () => new Promise<number>((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    expect(await count()).toBe(1);

    // close() waits for open connections: it must not finish while the adopted one is open.
    let closed = false;
    server.close(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    client.write("still there");
    const [again] = (await once(client, "data")) as [Buffer];
    expect(again.toString()).toBe("still there");

    client.destroy();
    for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(true);
  });

  it("closes the adopted connection when the server destroys the accepted socket (shutdown after drain)", async () => {
    const backPort = await listen(net.createServer((socket) => socket.on("data", (d: Buffer) => socket.write(d))));
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => {
      accepted.push(socket);
      socket.once("data", () => {
        const client = RelaySocket.adopt(socket)!;
        const back = RelaySocket.connect("127.0.0.1", backPort);
        client.relayTo(back.socket);
        back.relayTo(client.socket);
      });
    });
    const port = await listen(server);
    const client = net.connect(port, "127.0.0.1");
    client.write("x");
    await new Promise((r) => setTimeout(r, 50));
    accepted[0]!.destroy();
    await once(client, "close");
  });

  it("refuses to adopt a socket with bytes still queued for writing", async () => {
    let adopted: RelaySocket | null | undefined;
    const server = net.createServer((socket) => {
      socket.write(Buffer.alloc(64 * 1024 * 1024)); // far more than the kernel takes at once
      adopted = RelaySocket.adopt(socket);
      socket.destroy();
    });
    const port = await listen(server);
    const client = net.connect(port, "127.0.0.1");
    client.on("error", () => undefined);
    client.resume();
    await once(client, "close");
    expect(adopted).toBeNull();
  });
});
