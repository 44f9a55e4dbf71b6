// A session's turn on a multiplexed server connection while other sessions wait for one (issue 15).
//
// At a safe point a session offers its connection, and a waiting session takes it over: capture, hand-over
// and restore cost the proxy about four times what relaying the statement does. A client in a tight loop
// sends its next statement a fraction of a millisecond after its reply; giving the connection away in that
// gap makes every statement a take-over. So a session whose next statement comes quickly keeps its
// connection for a few statements in a row (a turn), the way a scheduler gives a thread a time slice,
// and only then goes to the back of the queue. The wait is short and bounded (TURN_HOLD_MS), and a session
// whose statements come slower than that is not held for at all (it is measured each time it keeps its
// connection), so a connection is never kept idle for a client that is thinking: queued sessions lose at most
// one hold of TURN_HOLD_MS now and then, when a quick client turns slow.

/** Statements a session runs in a row while others wait, before its connection goes to the longest waiter. */
export const TURN_STATEMENTS = 16;
/** How long a connection is kept for its session's next statement while others wait. */
export const TURN_HOLD_MS = 1;
/** A session found slow is tried again at every this many safe points (it may have sped up). */
const RETRY_EVERY = 8;

export class ConnectionTurn {
  private statements = 0;
  /** Recent time from a reply to the session's next statement, while it kept its connection (moving average). */
  private gapMs = 0;
  private replyAt = 0;
  private safePoints = 0;
  private timer: NodeJS.Timeout | null = null;

  /** A connection is kept for the next statement now. */
  get holding(): boolean {
    return this.timer !== null;
  }

  /**
   * At a safe point: whether the session keeps its connection for its next statement (true), or offers it
   * now. When kept and the statement does not come in time, `expired` is called (the session then offers it).
   */
  keep(othersWait: boolean, expired: () => void): boolean {
    this.replyAt = performance.now();
    if (!othersWait) {
      this.statements = 0;
      return false;
    }
    if (this.statements >= TURN_STATEMENTS) return false;
    if (this.gapMs > TURN_HOLD_MS && ++this.safePoints % RETRY_EVERY !== 0) return false;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.gapMs = average(this.gapMs, 2 * TURN_HOLD_MS); // at least the hold: slow for now
      this.statements = TURN_STATEMENTS;
      expired();
    }, TURN_HOLD_MS);
    return true;
  }

  /** The session's next statement, on the connection it kept (held for it, or offered and taken back). */
  statementCame(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.statements++;
    }
    if (this.replyAt > 0) this.gapMs = average(this.gapMs, performance.now() - this.replyAt);
    this.replyAt = 0;
  }

  /** The session got a connection anew (a take-over or a login): a new turn. */
  began(): void {
    this.statements = 0;
    this.replyAt = 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

const average = (previous: number, sample: number) => previous * 0.75 + sample * 0.25;
