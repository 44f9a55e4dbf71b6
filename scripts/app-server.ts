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
const REFUSED_BODY_LINGER_MS = 5000;
const trusted = trustedProxyList(config().TRUSTED_PROXIES);

process.title = "next-server (msl)";
const app = next({ dev: false, dir: path.resolve(import.meta.dirname, ".."), hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  const address = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
  req.headers[CLIENT_ADDRESS_HEADER] = address;
  req.headers["x-forwarded-for"] = address;
  // A refused body (413) is left unread: give the client a few seconds to read the answer, then close
  // the connection rather than keep a half-read request open until Node's request timeout.
  res.once("finish", () => {
    if (!req.complete) setTimeout(() => req.socket.destroy(), REFUSED_BODY_LINGER_MS).unref();
  });
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
