import { CLIENT_ADDRESS_HEADER } from "@/server/http/client-address";

/**
 * The client's address, as the app server (scripts/app-server.ts) determined it from the TCP peer and
 * TRUSTED_PROXIES. Without that server (`next dev`), X-Forwarded-For's last hop, which `next` fills in
 * from the peer when the client sent none.
 */
export function clientAddress(req: Request): string {
  const decided = req.headers.get(CLIENT_ADDRESS_HEADER);
  if (decided) return decided;
  return req.headers.get("x-forwarded-for")?.split(",").pop()?.trim() || "unknown";
}
