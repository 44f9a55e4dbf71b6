import { db } from "../db";
import { PROXY_HEARTBEAT_TTL_MS } from "./constants";

// The client sessions each proxy has open, so that `KILL <id>` sent through any proxy finds the session's
// compute thread (connection ids are unique across proxies by their slots, see instances.ts). Written with
// the proxies' activity reports; a proxy's rows go with its ProxyInstance row (unregistered or pruned).

export interface ProxySessionRow {
  connectionId: number;
  projectId: string;
  computeId: string;
  backendThreadId: number;
}

/** One proxy's changes since its last report: sessions opened (and still open), sessions closed. */
export async function reportSessions(proxyId: string, opened: ProxySessionRow[], closed: number[]): Promise<void> {
  if (opened.length === 0 && closed.length === 0) return;
  await db.$transaction([
    db.proxySession.deleteMany({ where: { proxyId, connectionId: { in: closed } } }),
    db.proxySession.createMany({ data: opened.map((s) => ({ proxyId, ...s })), skipDuplicates: true }),
  ]);
}

/** The session a client connection id names, on a live proxy; null when there is none. */
export async function findProxySession(connectionId: number, { ttlMs = PROXY_HEARTBEAT_TTL_MS } = {}): Promise<ProxySessionRow | null> {
  const rows = await db.$queryRaw<ProxySessionRow[]>`
    SELECT s."connectionId", s."projectId", s."computeId", s."backendThreadId"
    FROM "ProxySession" AS s JOIN "ProxyInstance" AS p ON p."id" = s."proxyId"
    WHERE s."connectionId" = ${connectionId}
      AND p."heartbeatAt" >= now() AT TIME ZONE 'UTC' - ${Math.round(ttlMs)}::int * interval '1 millisecond'
    LIMIT 1`;
  return rows[0] ?? null;
}
