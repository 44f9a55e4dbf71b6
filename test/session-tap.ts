import net from "node:net";
import { decodeGreeting, decodeHandshakeResponse, type Greeting, type HandshakeResponse } from "../proxy/protocol/handshake";
import { decodeOk } from "../proxy/protocol/ok-packet";
import { PacketFramer, type FramedPacket } from "../proxy/protocol/packet-framer";
import type { Reply } from "../proxy/session-state/reply-follower";
import { CLIENT_KEEP_LIMIT, SessionFollower } from "../proxy/session-state/session-follower";

// A TCP tap between a real client and a real server, as the proxy will sit: bytes pass unchanged both
// ways, and after the login each packet is fed to a SessionFollower before it is passed on, so when the
// client has its reply the follower has seen all of it.

export interface TappedSession {
  follower: SessionFollower | null;
  /** Every finished reply, for a failing test's message. */
  replies: Reply[];
  greeting: Greeting | null;
  login: HandshakeResponse | null;
  /** The half-packet check of the tap's own framers. */
  idle(): boolean;
}

export interface Tap {
  port: number;
  sessions: TappedSession[];
  close(): Promise<void>;
}

export async function startTap(upstreamPort: number): Promise<Tap> {
  const sessions: TappedSession[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    let phase: "greeting" | "response" | "auth" | "follow" | "failed" = "greeting";
    const session: TappedSession = { follower: null, replies: [], greeting: null, login: null, idle: () => fromClient.idle && fromServer.idle };
    sessions.push(session);
    const fromClient = new PacketFramer((p: FramedPacket) => {
      if (phase === "response" && p.payload) {
        session.login = decodeHandshakeResponse(p.payload);
        phase = "auth";
      } else if (phase === "follow") session.follower!.clientPacket(p);
    }, CLIENT_KEEP_LIMIT);
    const fromServer = new PacketFramer((p: FramedPacket) => {
      if (phase === "greeting" && p.payload) {
        session.greeting = decodeGreeting(p.payload);
        phase = "response";
      } else if (phase === "auth" && p.payload) {
        if (p.firstByte === 0xff) phase = "failed";
        if (p.firstByte !== 0x00) return;
        const g = session.greeting!;
        const login = session.login!;
        const capabilities = (login.capabilities & g.capabilities) >>> 0;
        session.follower = new SessionFollower({
          capabilities,
          extendedCapabilities: (login.extendedCapabilities & g.extendedCapabilities) >>> 0,
          user: login.user,
          database: login.database,
          status: decodeOk(p.payload, capabilities).status,
          onReply: (reply) => session.replies.push(reply),
        });
        phase = "follow";
      } else if (phase === "follow") session.follower!.serverPacket(p);
    });
    client.on("data", (chunk: Buffer) => {
      fromClient.push(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      fromServer.push(chunk);
      client.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sessions,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
