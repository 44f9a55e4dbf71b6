import { logger } from "@/server/logger";
import { recordWake, type WakeRecord } from "@/server/usage/record-wake";

// The proxy's side of wake records: hand each wake to the database without making the client wait, and
// never let a failed write reach a session (a lost record is logged; the wake itself is the operation's).

export interface WakeSink {
  record(wake: WakeRecord): void;
}

export const databaseWakeSink: WakeSink = {
  record(wake) {
    // A moment later: the record is made just as the woken client's session is handed to the relay, and
    // building the statement is CPU work the client's first command would otherwise wait behind.
    setTimeout(() => {
      recordWake(wake).catch((error: unknown) => logger.warn({ err: String(error), computeId: wake.computeId }, "wake record failed"));
    }, RECORD_DELAY_MS);
  },
};

const RECORD_DELAY_MS = 20;
