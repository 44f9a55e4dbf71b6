import { logger } from "@/server/logger";
import type { ClientSession } from "./attach";
import type { BackendSession } from "./backend";
import type { ProxyContext } from "./context";
import type { Followed } from "./followed-compute";
import { Command } from "./protocol/constants";
import { encodePacket } from "./protocol/packet";

// A new client's login on a pooled server connection, its compute running as far as the cached route
// knows: the connection is pinged *with* the client's OK, not before it (issue 12: the ping's round trip
// was a fifth of a connect's cost through the proxy). The COM_PING still reaches the server at once, so its
// thread stops looking idle to a pause's last look (server/compute/client-sessions.ts); its reply is taken
// out of the stream as the tracking set-up's is (ServerRewriter's swallowUntil), and the client's first
// command follows it on the same connection. What waiting for the ping was for - a server frozen under a
// route that lags - is checked after: when no answer has come within PING_GRACE_MS, the route is read
// afresh and a sleeping compute is woken, as a login's attach would have; the thawed server then answers
// the ping and the command behind it. A compute that cannot be woken ends the session (the client was
// told OK: its next read finds the connection closed, as when a compute goes away under a session).

/** How long a pooled connection's COM_PING may take before the compute is looked at again (a running local compute answers in well under a millisecond; a frozen one only once thawed). */
export const PING_GRACE_MS = 3;

/**
 * Send the COM_PING owed by a pooled connection taken for a new client, through the session's follower.
 * `swallowUntil` is what the tracking set-up left for the relay to take out (null: nothing); returns the
 * new count, the ping's reply included.
 */
export function sendLoginPing(backend: BackendSession, followed: Followed, swallowUntil: number | null): number {
  const packet = encodePacket(Buffer.from([Command.PING]), 0);
  followed.follower.clientBytes(packet);
  backend.compute.socket.write(packet);
  return (swallowUntil ?? followed.follower.replies.finished) + 1;
}

/**
 * After PING_GRACE_MS without the ping's answer (`answered`), read the route afresh and wake the compute if
 * it sleeps. The wake is recorded as a login's would be. `failed` is told when it cannot be woken.
 */
export function watchLoginPing(ctx: ProxyContext, session: ClientSession, answered: () => boolean, failed: (error: unknown) => void): void {
  setTimeout(() => {
    if (answered()) return;
    void wakeUnderPing(ctx, session, answered).catch((error: unknown) => {
      logger.warn({ err: error instanceof Error ? error.message : String(error), computeId: session.route.computeId }, "a pooled connection taken at login did not answer, and its compute could not be woken");
      failed(error);
    });
  }, PING_GRACE_MS).unref();
}

async function wakeUnderPing(ctx: ProxyContext, session: ClientSession, answered: () => boolean): Promise<void> {
  const started = Date.now();
  const route = await ctx.routes.lookup({ slug: session.route.slug, role: session.route.role }, { fresh: true });
  if (answered()) return;
  if (!route?.compute) throw new Error("the project or its compute is gone");
  // Recorded running: a slow answer, or a thaw the reconciler is finishing; the ping waits for it.
  if (route.compute.row.state === "running") return;
  const wakeStarted = process.hrtime.bigint();
  const woke = await ctx.waker.ensureRunning({ route, who: `${route.role}@${session.address}`, deadline: started + ctx.wakeTimeoutMs });
  if (!woke.wokeFrom) return;
  ctx.metrics.wake(woke.wokeFrom, Number(process.hrtime.bigint() - wakeStarted) / 1e9);
  const { computeId, projectId, organizationId, role } = route;
  ctx.wakes?.record({ computeId: computeId!, projectId, organizationId, fromState: woke.wokeFrom, startedAt: new Date(started), durationMs: Date.now() - started, role, clientAddress: session.address });
  // Started afresh rather than thawed: the pooled connection was to a server that is gone.
  if (!woke.thawed) throw new Error("the compute was started on a new server");
}
