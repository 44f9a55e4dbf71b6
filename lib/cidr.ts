// IP addresses and CIDR ranges, IPv4 and IPv6, without Node's `net` (this module is shared with the
// console, which runs in the browser). Used to validate and normalise a project's allowed IP ranges and by
// the proxy to match a client's address against them.
//
// Normal forms: a bare address is its own /32 or /128; host bits right of the prefix are cleared
// (10.1.2.3/8 -> 10.0.0.0/8); IPv6 is written as RFC 5952 says (lowercase, the longest run of zero groups
// as "::"). An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is the IPv4 range it maps (10.0.0.0/8), and an
// IPv4-mapped client address (::ffff:127.0.0.1, what a dual-stack socket reports) is matched as IPv4, so
// one IPv4 entry covers a client whichever way its socket reports it.

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  prefix: number;
}

const IPV4_PART = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!IPV4_PART.test(parts[i]!)) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const part of text.split(":")) {
    if (!HEX_GROUP.test(part)) return null;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | null {
  let body = text;
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups: rewrite it as them.
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".", lastColon)) {
    const v4 = parseIpv4(body.slice(lastColon + 1));
    if (!v4) return null;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    body = `${body.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!);
    const rest = parseGroups(halves[1]!);
    if (!head || !rest) return null;
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null; // "::" stands for at least one group
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    const all = parseGroups(body);
    if (!all) return null;
    groups = all;
    if (groups.length !== 8) return null;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isIpv4Mapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/** An IPv4 or IPv6 address (no zone, no brackets); IPv4-mapped IPv6 comes back as IPv4. Null if malformed. */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(":")) {
    const bytes = parseIpv6(text);
    if (!bytes) return null;
    return isIpv4Mapped(bytes) ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
  }
  const bytes = parseIpv4(text);
  return bytes ? { family: 4, bytes } : null;
}

function maskHostBits(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i]! &= (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Null if malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  if (addressText.includes(":")) {
    const bytes = parseIpv6(addressText);
    if (!bytes) return null;
    const prefix = prefixText === null ? 128 : parsePrefix(prefixText, 128);
    if (prefix === null) return null;
    if (isIpv4Mapped(bytes) && prefix >= 96) {
      return { family: 4, prefix: prefix - 96, bytes: maskHostBits(bytes.slice(12), prefix - 96) };
    }
    return { family: 6, prefix, bytes: maskHostBits(bytes, prefix) };
  }
  const bytes = parseIpv4(addressText);
  if (!bytes) return null;
  const prefix = prefixText === null ? 32 : parsePrefix(prefixText, 32);
  if (prefix === null) return null;
  return { family: 4, prefix, bytes: maskHostBits(bytes, prefix) };
}

function parsePrefix(text: string, max: number): number | null {
  if (!/^(0|[1-9]\d{0,2})$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

export function formatIp({ family, bytes }: IpAddress): string {
  if (family === 4) return Array.from(bytes).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (the first of equals) of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`;
}

/** The normal form of a CIDR (see the top of this file), or null if it is not one. */
export function normalizeCidr(text: string): string | null {
  const cidr = parseCidr(text.trim());
  return cidr ? formatCidr(cidr) : null;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  const masked = maskHostBits(address.bytes, cidr.prefix);
  return masked.every((b, i) => b === cidr.bytes[i]);
}

/**
 * A socket's remote address as the proxy reports it: IPv4-mapped IPv6 as IPv4, an IPv6 zone (%eth0)
 * dropped. Null for anything unparseable (which no range matches).
 */
export function parseClientAddress(remote: string | undefined): IpAddress | null {
  if (!remote) return null;
  const zone = remote.indexOf("%");
  return parseIp(zone < 0 ? remote : remote.slice(0, zone));
}
