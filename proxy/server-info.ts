import { execFileSync } from "node:child_process";
import { Capability } from "./protocol/constants";
import type { Greeting } from "./protocol/handshake";

// What the proxy's greeting presents: the computes' own server version, capabilities, collation and
// status. It starts from the local mariadbd's version and MariaDB 10.11's capabilities, and follows what
// the computes' greetings actually say once it has seen one.

export interface ServerInfo {
  serverVersion: string;
  capabilities: number;
  extendedCapabilities: number;
  collation: number;
  status: number;
}

/** MariaDB 10.11's greeting capabilities (read off a real mariadbd 10.11.19). */
const MARIADB_10_11_CAPABILITIES = 0xc1fff7fe;
const MARIADB_10_11_EXTENDED = 0x1d;
const UTF8MB4_UNICODE_CI = 224;

function localMariadbVersion(): string | null {
  for (const bin of ["mariadbd", "/usr/sbin/mariadbd"]) {
    try {
      const out = execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
      const m = /Ver\s+(\S+)/.exec(out);
      if (m?.[1]) return m[1];
    } catch {
      // try the next path
    }
  }
  return null;
}

export function initialServerInfo(): ServerInfo {
  const version = process.env.PROXY_SERVER_VERSION ?? localMariadbVersion() ?? "10.11.0-MariaDB";
  return {
    // MariaDB prefixes "5.5.5-" so that old MySQL clients don't take 10.x for a 5.x-incompatible server.
    serverVersion: version.startsWith("5.5.5-") ? version : `5.5.5-${version}`,
    capabilities: MARIADB_10_11_CAPABILITIES,
    extendedCapabilities: MARIADB_10_11_EXTENDED,
    collation: UTF8MB4_UNICODE_CI,
    status: 0x0002,
  };
}

export function learnFromGreeting(info: ServerInfo, greeting: Greeting): void {
  info.serverVersion = greeting.serverVersion;
  info.capabilities = greeting.capabilities;
  info.extendedCapabilities = greeting.extendedCapabilities;
  info.collation = greeting.collation;
  info.status = greeting.status;
}

/** What the proxy offers clients: the compute's capabilities, without compression, with TLS if configured. */
export function offeredCapabilities(info: ServerInfo, tls: boolean): number {
  let caps = info.capabilities & ~(Capability.COMPRESS | Capability.ZSTD_COMPRESSION | Capability.SSL);
  caps |= Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH;
  if (tls) caps |= Capability.SSL;
  return caps >>> 0;
}
