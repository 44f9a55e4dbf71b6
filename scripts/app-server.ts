import http from "node:http";
import path from "node:path";
import next from "next";
import { config } from "../server/config";
import { CLIENT_ADDRESS_HEADER, resolveClientAddress, trustedProxyList } from "../server/http/client-address";

// The Next.js app behind a plain Node HTTP server (what `npm start` runs instead of `next start`), for one
// reason: the front-door limits need the client's real address, and `next start` hands route handlers
// only X-Forwarded-For, which it passes through from the client when present. Here every request gets
// CLIENT_ADDRESS_HEADER (and X-Forwarded-For) set from the TCP peer, or from X-Forwarded-For only when
// the peer is one of TRUSTED_PROXIES (server/http/client-address.ts). Everything else is Next's own
// request handler, as `next start` uses it.
//
// Usage: node --import tsx scripts/app-server.ts -p <port> -H <host>

function arg(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const port = Number(arg("-p", process.env.PORT ?? "3000"));
const hostname = arg("-H", "127.0.0.1");
const REFUSED_BODY_LINGER_MS = 1000;

/**
 * A refused body (413) is left unread, and Node closes such a connection as soon as the answer ends.
 * A client still sending then meets a reset, often before it has read the answer. So the answer is
 * handed over at once but ended (and the connection closed) a moment later, the way web servers linger
 * on close.
 */
function lingerOnUnreadBody(req: http.IncomingMessage, res: http.ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (req.complete || res.destroyed) return end(...args);
    const [chunk, encoding] = args;
    if (chunk !== undefined && chunk !== null && typeof chunk !== "function") {
      res.write(chunk as string | Buffer, (typeof encoding === "string" ? encoding : "utf8") as BufferEncoding);
    }
    const callback = args.find((a) => typeof a === "function") as (() => void) | undefined;
    setTimeout(() => end(callback), REFUSED_BODY_LINGER_MS).unref();
    return res;
  }) as typeof res.end;
}
const trusted = trustedProxyList(config().TRUSTED_PROXIES);

process.title = "next-server (msl)";
const app = next({ dev: false, dir: path.resolve(import.meta.dirname, ".."), hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  const address = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
  req.headers[CLIENT_ADDRESS_HEADER] = address;
  req.headers["x-forwarded-for"] = address;
  lingerOnUnreadBody(req, res);
  void handle(req, res);
});
server.listen(port, hostname, () => console.log(`app listening on http://${hostname}:${port}`));

// Like `next start`: stop accepting on SIGTERM/SIGINT and exit (the scheduler has its own handlers).
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 100).unref();
  });
}
