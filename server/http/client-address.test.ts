import { describe, expect, it } from "vitest";
import { resolveClientAddress, trustedProxyList } from "./client-address";

describe("resolveClientAddress", () => {
  const none = trustedProxyList([]);
  const lb = trustedProxyList(["10.0.0.0/8", "::1"]);

  it("is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(resolveClientAddress("::ffff:203.0.113.9", "1.2.3.4", none)).toBe("203.0.113.9");
    expect(resolveClientAddress("127.0.0.1", undefined, none)).toBe("127.0.0.1");
  });

  it("reads X-Forwarded-For from the right behind trusted proxies", () => {
    expect(resolveClientAddress("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9", lb)).toBe("198.51.100.7");
    expect(resolveClientAddress("::1", ["198.51.100.8"], lb)).toBe("198.51.100.8");
  });

  it("falls back to the last trusted hop when every hop is trusted or the header is junk", () => {
    expect(resolveClientAddress("10.1.2.3", "10.4.4.4", lb)).toBe("10.4.4.4");
    expect(resolveClientAddress("10.1.2.3", "not-an-ip", lb)).toBe("10.1.2.3");
  });
});
