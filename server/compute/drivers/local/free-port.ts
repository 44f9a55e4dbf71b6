import net from "node:net";

// Ports are probed by binding them ourselves: the only reliable "is it free" question on Linux. There is a
// window between our probe and mariadbd's bind; the driver retries with another port when mariadbd loses it.

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

export async function isPortFree(host: string, port: number): Promise<boolean> {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return false;
  return (await listenOnce(host, port)) === port;
}

/** A port the kernel picked as free on `host` (bind to port 0). */
export async function freePort(host: string): Promise<number> {
  const port = await listenOnce(host, 0);
  if (port === null) throw new Error(`no free TCP port on ${host}`);
  return port;
}
