import { describe, expect, it } from "vitest";
import { parseRateLimitedSignInCode, rateLimitedSignInCode, retryMessage } from "./rate-limit";

describe("rate-limit codes and messages", () => {
  it("round-trips the wait through the sign-in error code", () => {
    expect(parseRateLimitedSignInCode(rateLimitedSignInCode(42))).toBe(42);
    expect(parseRateLimitedSignInCode("credentials")).toBeNull();
    expect(parseRateLimitedSignInCode(null)).toBeNull();
  });

  it("says when to try again", () => {
    expect(retryMessage("too many sign-ups", 3, new Date("2026-01-01T00:00:00.500Z"))).toBe(
      "too many sign-ups; try again in 3 seconds (at 2026-01-01T00:00:03Z)",
    );
  });
});
