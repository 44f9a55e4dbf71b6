import pg from "pg";
import { logger } from "../logger";

// A PostgreSQL LISTEN that stays up: one connection of its own (Prisma's pool cannot hold a LISTEN), opened
// on the first call and reopened after a loss. Notifications sent while it was down are lost, so `onGap` is
// called whenever the channel might have missed one (at each (re)connect and each loss), with whether it
// listens from then on; a listener that caches must drop what it holds then.

const RETRY_MS = 1_000;

export interface Listener {
  stop(): Promise<void>;
}

export function listen(channel: string, handlers: { onNotify: (payload: string) => void; onGap: (listening: boolean) => void }): Listener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let stopped = false;

  const lost = (error: unknown) => {
    handlers.onGap(false);
    if (stopped) return;
    logger.warn({ channel, err: error instanceof Error ? error.message : String(error) }, "LISTEN connection lost; reconnecting");
    const dead = client;
    client = null;
    dead?.removeAllListeners();
    dead?.on("error", () => undefined);
    void dead?.end().catch(() => undefined);
    retry ??= setTimeout(() => {
      retry = null;
      void connect();
    }, RETRY_MS);
    retry.unref();
  };

  const connect = async () => {
    const url = process.env.DATABASE_URL;
    if (!url || stopped) return;
    const next = new pg.Client({ connectionString: url, application_name: `listen ${channel}` });
    client = next;
    next.on("error", lost);
    next.on("end", () => {
      if (client === next) lost(new Error("connection ended"));
    });
    next.on("notification", (message) => {
      if (message.channel === channel) handlers.onNotify(message.payload ?? "");
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      // Listening from here on; anything before it was not heard.
      handlers.onGap(true);
      // The connection must not keep the process alive by itself.
      (next as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    } catch (error) {
      if (client === next) lost(error);
    }
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const last = client;
      client = null;
      last?.removeAllListeners();
      last?.on("error", () => undefined);
      await last?.end().catch(() => undefined);
    },
  };
}
