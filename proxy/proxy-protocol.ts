import net from "node:net";
import { isTrusted, normalizeAddress, trustedProxyList } from "@/server/http/client-address";

// The PROXY protocol (HAProxy's, versions 1 and 2), which load balancers in front of the proxy send first
// on every connection to say whose connection it is. It is read only from the configured trusted addresses
// (PROXY_PROTOCOL_TRUSTED): from anyone else a header would be a client lying about its address. From a
// trusted address the header is required; a connection without one is closed.
// Spec: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_MAX = 107;
const V2_MAX = 16 + 65535;

export interface ProxiedSource {
  address: string;
  port: number;
}

export type ParseResult =
  | { kind: "incomplete" }
  | { kind: "invalid"; reason: string }
  /** `source` null: the header says nothing about a client (v1 UNKNOWN, v2 LOCAL: a health check). */
  | { kind: "header"; length: number; source: ProxiedSource | null };

function parseV1(buf: Buffer): ParseResult {
  const end = buf.indexOf("\r\n");
  if (end < 0) return buf.length >= V1_MAX ? { kind: "invalid", reason: "v1 header longer than 107 bytes" } : { kind: "incomplete" };
  if (end + 2 > V1_MAX) return { kind: "invalid", reason: "v1 header longer than 107 bytes" };
  const parts = buf.subarray(0, end).toString("latin1").split(" ");
  const length = end + 2;
  if (parts[1] === "UNKNOWN") return { kind: "header", length, source: null };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) return { kind: "invalid", reason: "malformed v1 header" };
  const [, family, src, , sport] = parts as [string, string, string, string, string, string];
  const port = Number(sport);
  if (net.isIP(src) !== (family === "TCP4" ? 4 : 6) || !/^\d{1,5}$/.test(sport) || port > 65535) {
    return { kind: "invalid", reason: "malformed v1 addresses" };
  }
  return { kind: "header", length, source: { address: src, port } };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return normalizeAddress(new net.SocketAddress({ address: groups.join(":"), family: "ipv6" }).address);
}

function parseV2(buf: Buffer): ParseResult {
  if (buf.length < 16) return { kind: "incomplete" };
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) return { kind: "invalid", reason: "unsupported v2 version" };
  const command = versionCommand & 0x0f;
  const familyProtocol = buf[13]!;
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: "incomplete" };
  if (command === 0x0) return { kind: "header", length, source: null }; // LOCAL
  if (command !== 0x1) return { kind: "invalid", reason: "unknown v2 command" };
  const body = buf.subarray(16, length);
  switch (familyProtocol) {
    case 0x11: // TCP over IPv4
    case 0x12: // UDP over IPv4
      if (body.length < 12) return { kind: "invalid", reason: "short v2 IPv4 addresses" };
      return { kind: "header", length, source: { address: [...body.subarray(0, 4)].join("."), port: body.readUInt16BE(8) } };
    case 0x21: // TCP over IPv6
    case 0x22:
      if (body.length < 36) return { kind: "invalid", reason: "short v2 IPv6 addresses" };
      return { kind: "header", length, source: { address: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32) } };
    default:
      // AF_UNSPEC or AF_UNIX: no client address to take.
      return { kind: "header", length, source: null };
  }
}

/** What the first bytes of a connection say: a whole header, not yet enough bytes, or nonsense. */
export function parseProxyHeader(buf: Buffer): ParseResult {
  const v2Prefix = buf.subarray(0, Math.min(buf.length, V2_SIGNATURE.length));
  if (v2Prefix.equals(V2_SIGNATURE.subarray(0, v2Prefix.length)) && buf.length > 0) {
    return buf.length < V2_SIGNATURE.length ? { kind: "incomplete" } : parseV2(buf);
  }
  const v1Prefix = buf.subarray(0, Math.min(buf.length, 6)).toString("latin1");
  if ("PROXY ".startsWith(v1Prefix)) return buf.length < 6 ? { kind: "incomplete" } : parseV1(buf);
  return { kind: "invalid", reason: "no PROXY protocol header" };
}

/**
 * Reads the header from the socket (and no more: what follows is put back for the session), and makes the
 * socket report the client's address and port from then on. Every part of the proxy (throttling, access
 * rules, pre-auth limits, wake reasons, logs) reads the client's address from the socket, so they all see
 * the client rather than the load balancer. Rejects on a missing or malformed header or after `timeoutMs`.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<ProxiedSource | null> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (error: Error | null, source?: ProxiedSource | null) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (error) reject(error);
      else resolve(source ?? null);
    };
    const onClose = () => finish(new Error("closed before the PROXY protocol header"));
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.kind === "incomplete") {
        if (buffered.length > V2_MAX) finish(new Error("PROXY protocol header too long"));
        return;
      }
      if (parsed.kind === "invalid") return finish(new Error(`PROXY protocol: ${parsed.reason}`));
      socket.pause();
      const rest = buffered.subarray(parsed.length);
      if (rest.length > 0) socket.unshift(rest);
      if (parsed.source) {
        Object.defineProperty(socket, "remoteAddress", { value: normalizeAddress(parsed.source.address), configurable: true });
        Object.defineProperty(socket, "remotePort", { value: parsed.source.port, configurable: true });
      }
      finish(null, parsed.source);
    };
    const timer = setTimeout(() => finish(new Error("no PROXY protocol header in time")), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/** Which peers must send the header: none when the list is empty. */
export function proxyProtocolPeers(entries: string[]): ((peer: string | undefined) => boolean) | null {
  if (entries.length === 0) return null;
  const list = trustedProxyList(entries);
  return (peer) => isTrusted(list, normalizeAddress(peer ?? ""));
}
