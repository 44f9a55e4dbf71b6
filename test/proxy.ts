import net from "node:net";
import mysql from "mysql2/promise";
import { inject } from "vitest";
import type { RunningProxy } from "../proxy/start-proxy";

// Clients that go through the product's proxy, as a tenant's application would.

export const proxyPort = () => Number(inject("proxyPort"));

export function connectProxy(user: string, password: string, extra: Partial<mysql.ConnectionOptions> = {}) {
  return mysql.createConnection({
    host: "127.0.0.1",
    port: proxyPort(),
    user,
    password,
    database: "main",
    connectTimeout: 30_000,
    ...extra,
  });
}

/** A connection whose TLS server name is `serverName` (SNI routing) while the TCP goes to 127.0.0.1. */
export function connectProxyWithServerName(serverName: string, user: string, password: string) {
  return mysql.createConnection({
    host: serverName,
    stream: net.connect(proxyPort(), "127.0.0.1"),
    user,
    password,
    database: "main",
    ssl: { rejectUnauthorized: false },
  });
}

export async function rejection(promise: Promise<unknown>): Promise<{ errno?: number; sqlState?: string; message: string }> {
  try {
    const value = await promise;
    if (value && typeof (value as { end?: () => Promise<void> }).end === "function") await (value as { end: () => Promise<void> }).end();
  } catch (error) {
    return error as { errno?: number; sqlState?: string; message: string };
  }
  throw new Error("expected the connection to be refused");
}

/**
 * Another proxy in the test's own process, against the product's database, on free ports, with `settings`
 * (environment variables) over the test's. Each call reads the configuration afresh: the process caches it
 * at first use, and a second proxy in the same file got the first one's settings.
 */
export async function startSecondProxy(settings: Record<string, string> = {}): Promise<RunningProxy> {
  Object.assign(process.env, { DATABASE_URL: inject("databaseUrl"), ...settings });
  const { resetConfig } = await import("../server/config");
  resetConfig();
  const { startProxy } = await import("../proxy/start-proxy");
  return startProxy({ port: 0, metricsPort: 0, host: "127.0.0.1" });
}
