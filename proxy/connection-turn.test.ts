import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConnectionTurn, TURN_HOLD_MS, TURN_STATEMENTS } from "./connection-turn";

describe("a session's turn on a shared connection", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => vi.useRealTimers());

  it("offers the connection at once when nobody waits", () => {
    const turn = new ConnectionTurn();
    const expired = vi.fn();
    expect(turn.keep(false, expired)).toBe(false);
    expect(turn.holding).toBe(false);
  });

  it("keeps it for a quick client's next statements while others wait, then lets it go after a turn", () => {
    const turn = new ConnectionTurn();
    const expired = vi.fn();
    for (let i = 0; i < TURN_STATEMENTS; i++) {
      expect(turn.keep(true, expired)).toBe(true);
      // The client answers before the hold runs out (fake timers: no time passes).
      turn.statementCame();
    }
    // The turn is used up: the next safe point offers the connection to the longest waiter.
    expect(turn.keep(true, expired)).toBe(false);
    expect(expired).not.toHaveBeenCalled();
    // Back on a connection after waiting its turn: a new turn.
    turn.began();
    expect(turn.keep(true, expired)).toBe(true);
  });

  it("gives the connection up when the next statement does not come within the hold", () => {
    const turn = new ConnectionTurn();
    const expired = vi.fn();
    expect(turn.keep(true, expired)).toBe(true);
    vi.advanceTimersByTime(TURN_HOLD_MS);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(turn.holding).toBe(false);
    // The rest of this turn is given up too.
    expect(turn.keep(true, expired)).toBe(false);
  });

  it("does not hold connections for a client that thinks between statements, but tries it again now and then", () => {
    const turn = new ConnectionTurn();
    const expired = vi.fn();
    // Slow next statements, each seen after an offer it took back (nobody waited then).
    for (let i = 0; i < 10; i++) {
      turn.keep(false, expired);
      vi.advanceTimersByTime(50);
      turn.statementCame();
    }
    turn.began();
    const kept = Array.from({ length: 16 }, () => {
      const held = turn.keep(true, expired);
      if (held) {
        vi.advanceTimersByTime(TURN_HOLD_MS);
        turn.began();
      }
      return held;
    });
    expect(kept.filter(Boolean).length).toBe(2); // every eighth safe point
  });

  it("stops its timer when the session ends", () => {
    const turn = new ConnectionTurn();
    const expired = vi.fn();
    turn.keep(true, expired);
    turn.stop();
    vi.advanceTimersByTime(10);
    expect(expired).not.toHaveBeenCalled();
  });
});
