import net from "node:net";

// Which address a request comes from, for the front-door limits. `next start` passes a client-sent
// X-Forwarded-For through untouched (it only fills the header in when it is missing: next's base-server
// `req.headers['x-forwarded-for'] ??= socket.remoteAddress`), so believing that header would let anyone
// pick a new address per request and dodge every per-address limit. The app server (scripts/app-server.ts)
// therefore decides once, from the TCP peer: the peer is the client unless it is one of TRUSTED_PROXIES,
// in which case X-Forwarded-For is read from the right, skipping trusted hops, and the first untrusted
// address is the client. The answer is written into CLIENT_ADDRESS_HEADER (any client-sent value is
// replaced) and into X-Forwarded-For, so everything behind it sees the same address.

/** Set by the app server on every request; route handlers read the client's address from it. */
export const CLIENT_ADDRESS_HEADER = "x-msl-client-address";

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(trimmed) ? trimmed.slice(7) : trimmed;
}

export function trustedProxyList(entries: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    if (!address) continue;
    const family = net.isIPv6(address) ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

export function isTrusted(list: net.BlockList, address: string): boolean {
  const family = net.isIPv6(address) ? "ipv6" : net.isIPv4(address) ? "ipv4" : null;
  return family !== null && list.check(address, family);
}

/** The client's address from the TCP peer and (only behind a trusted proxy) X-Forwarded-For. */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: net.BlockList,
): string {
  let address = normalizeAddress(peer ?? "unknown");
  if (!isTrusted(trusted, address)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map(normalizeAddress)
    .filter((hop) => net.isIP(hop) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    address = hops[i]!;
    if (!isTrusted(trusted, address)) break;
  }
  return address;
}
