import net from "node:net";

// TCP ports for the servers the product starts (embedded PostgreSQL, mariadbd computes, the app in tests).
// A port is probed by binding it ourselves, exclusively: the only reliable "is it free" question on Linux.
// There is a window between the probe and the real server's bind; callers that care retry with another port.

function listenOnce(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A TCP port that was free a moment ago on `host` (the kernel picks it: bind to port 0). */
export async function findFreePort(host = "127.0.0.1"): Promise<number> {
  const port = await listenOnce(host, 0);
  if (port === null) throw new Error(`no free TCP port on ${host}`);
  return port;
}

/** Whether `port` can be bound on `host` right now. */
export async function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return false;
  return (await listenOnce(host, port)) === port;
}

/** Whether something accepts TCP connections on host:port right now. */
export function isPortOpen(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
