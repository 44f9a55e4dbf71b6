import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password";
import { generateRolePassword, isNativePasswordHash, nativePasswordHash } from "./native-password";
import { generateApiKeySecret, hashApiKeySecret } from "./api-key-secret";

describe("console passwords", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(stored).not.toContain("correct");
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterz", stored)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
  });

  it("refuses a malformed stored hash", async () => {
    expect(await verifyPassword("x", "plain")).toBe(false);
  });
});

describe("mysql_native_password hashes", () => {
  it("matches MariaDB's PASSWORD() for a known value", () => {
    // SELECT PASSWORD('secret') on MariaDB 10.11
    expect(nativePasswordHash("secret")).toBe("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7");
    expect(isNativePasswordHash(nativePasswordHash("secret"))).toBe(true);
    expect(isNativePasswordHash("secret")).toBe(false);
  });

  it("generates distinct strong role passwords", () => {
    const a = generateRolePassword();
    expect(a).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(generateRolePassword()).not.toBe(a);
  });
});

describe("API key secrets", () => {
  it("keeps a visible prefix and a hash that identifies the secret", () => {
    const key = generateApiKeySecret();
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    expect(key.hash).toBe(hashApiKeySecret(key.secret));
    expect(key.hash).not.toContain(key.secret);
  });
});
