import mysql, { type Connection } from "mysql2/promise";
import { setTimeout as delay } from "node:timers/promises";
import type { Endpoint } from "../types";
import { ADMIN_USER } from "./names";

// The control plane's admin session on a compute pod: over the network, as ADMIN_USER with the password of
// the compute's Secret (the local driver uses its unix socket instead).

const CONNECT_TIMEOUT_MS = 10_000;
const RETRY_MS = 100;

async function connectOnce(endpoint: Endpoint, password: string): Promise<Connection> {
  const conn = await mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: ADMIN_USER,
    password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    multipleStatements: false,
  });
  // A pod that goes away under an idle connection emits 'error'; unheard, it would crash the control plane.
  conn.on("error", () => undefined);
  try {
    // Our quoting relies on backslash escapes; a tenant's global NO_BACKSLASH_ESCAPES must not break it.
    await conn.query("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return conn;
}

/**
 * An admin session; right after the pod turned Ready the Service may not route to it yet, so a refused
 * connection is tried again until `withinMs` has passed.
 */
export async function connectNetworkAdmin(endpoint: Endpoint, password: string, withinMs = 0): Promise<Connection> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await connectOnce(endpoint, password);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const transient = code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ENOTFOUND" || code === "EAI_AGAIN";
      if (!transient || Date.now() >= deadline) throw error;
      await delay(RETRY_MS);
    }
  }
}
