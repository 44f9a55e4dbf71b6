import { describe, expect, it } from "vitest";
import { accessRulesData, checkAccessRules, compileAccessRules, withAccess } from "./access-rules";

const check = (rules: { requireTls?: boolean; allowedCidrs?: string[] }, remoteAddress: string | undefined, tls = false) =>
  checkAccessRules(compileAccessRules({ requireTls: false, allowedCidrs: [], ...rules }), { slug: "wispy-river-4821", remoteAddress, tls });

describe("checkAccessRules", () => {
  it("admits everyone when there are no rules", () => {
    expect(check({}, "203.0.113.9")).toBeNull();
    expect(check({}, undefined)).toBeNull();
  });

  it("refuses a plain client when TLS is required, and says how to connect", () => {
    expect(check({ requireTls: true }, "127.0.0.1")).toEqual({
      rule: "require_tls",
      message: "Access denied: project wispy-river-4821 accepts connections only over TLS; connect with --ssl (or ssl-mode=REQUIRED)",
    });
    expect(check({ requireTls: true }, "127.0.0.1", true)).toBeNull();
  });

  it("refuses addresses outside the allow-list, naming the address as IPv4 when it is IPv4-mapped", () => {
    expect(check({ allowedCidrs: ["10.0.0.0/8"] }, "::ffff:127.0.0.1")).toEqual({
      rule: "allowed_cidrs",
      message: "Access denied: project wispy-river-4821 does not accept connections from 127.0.0.1; add the address to the project's allowed IP ranges",
    });
    expect(check({ allowedCidrs: ["10.0.0.0/8", "127.0.0.0/8"] }, "::ffff:127.0.0.1")).toBeNull();
    expect(check({ allowedCidrs: ["::1/128"] }, "::1")).toBeNull();
    expect(check({ allowedCidrs: ["::1/128"] }, undefined)?.rule).toBe("allowed_cidrs");
  });

  it("tells a refused address about the address first, whatever the transport", () => {
    expect(check({ requireTls: true, allowedCidrs: ["10.0.0.0/8"] }, "127.0.0.1")?.rule).toBe("allowed_cidrs");
  });

  it("fails closed on a stored entry it cannot read", () => {
    expect(check({ allowedCidrs: ["not a range"] }, "127.0.0.1")?.rule).toBe("allowed_cidrs");
  });
});

describe("the API side", () => {
  it("changes only the rules a PATCH names, and groups them under access", () => {
    expect(accessRulesData(undefined)).toEqual({});
    expect(accessRulesData({ requireTls: true })).toEqual({ requireTls: true });
    expect(accessRulesData({ allowedCidrs: [] })).toEqual({ allowedCidrs: [] });
    expect(withAccess({ id: "p1", requireTls: false, allowedCidrs: ["10.0.0.0/8"] })).toEqual({
      id: "p1",
      access: { requireTls: false, allowedCidrs: ["10.0.0.0/8"] },
    });
  });
});
