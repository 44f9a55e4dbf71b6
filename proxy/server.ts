import net from "node:net";
import { logger } from "@/server/logger";
import { ClientError } from "./client-error";
import { encodeError } from "./protocol/handshake";
import { encodePacket } from "./protocol/packet";
import { proxyProtocolPeers, readProxyHeader } from "./proxy-protocol";
import { clientAddressOf, handleClient, type ProxyContext } from "./session";

// The listening side: accepts clients, hands each to a session, and on shutdown stops accepting and lets
// open sessions drain for a while before closing them.

export class ProxyServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  /**
   * `proxyProtocolFrom`: the load balancers (addresses or CIDR ranges) that send the PROXY protocol header;
   * their connections give the client's own address in it (proxy-protocol.ts).
   */
  constructor(
    private readonly ctx: ProxyContext,
    options: { proxyProtocolFrom?: string[] } = {},
  ) {
    const sendsHeader = proxyProtocolPeers(options.proxyProtocolFrom ?? []);
    this.server = net.createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined); // a reset by the client is not the proxy's error
      if (!sendsHeader?.(socket.remoteAddress)) return this.accept(socket);
      readProxyHeader(socket, this.ctx.handshakeTimeoutMs).then(
        () => {
          this.accept(socket);
          socket.resume(); // paused after the header until the session listens
        },
        (error: unknown) => {
          logger.warn({ peer: socket.remoteAddress, err: String(error) }, "connection from a PROXY protocol peer without a valid header closed");
          socket.destroy();
        },
      );
    });
    this.server.maxConnections = 10_000;
  }

  /** Hand a client to a session, unless it is over the cap of unauthenticated connections. */
  private accept(socket: net.Socket): void {
    // Over the cap of unauthenticated connections: an error packet (1040) instead of a greeting.
    const address = clientAddressOf(socket);
    const ticket = this.ctx.preAuth.admit(address);
    if (ticket instanceof ClientError) {
      this.ctx.metrics.handshake(ticket.kind);
      socket.end(encodePacket(encodeError(ticket.code, ticket.sqlState, ticket.message), 0));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.once("close", ticket.release);
    void handleClient(socket, this.ctx, ticket).catch((error: unknown) => {
      logger.error({ err: String(error) }, "session crashed");
      socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Stop accepting; wait up to drainMs for clients to leave, then close the rest. */
  async shutdown(drainMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + drainMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
