import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

/** An environment with only these variables (NodeJS.ProcessEnv's type also asks for NODE_ENV). */
const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

describe("AUTH_SECRET", () => {
  it("refuses the example placeholder of deploy/kubernetes/secret.yaml, naming the variable and how to make one", () => {
    expect(() => loadConfig(env({ AUTH_SECRET: "change-me-to-a-long-random-value" }))).toThrow(ConfigError);
    expect(() => loadConfig(env({ AUTH_SECRET: "change-me-to-a-long-random-value" }))).toThrow(/AUTH_SECRET.*placeholder.*openssl rand -base64 33/);
  });

  it("refuses a secret shorter than 32 characters", () => {
    expect(() => loadConfig(env({ AUTH_SECRET: "a".repeat(31) }))).toThrow(/AUTH_SECRET.*shorter than 32 characters/);
  });

  it("accepts 32 characters or more, and unset (one is generated then)", () => {
    const secret = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
    expect(loadConfig(env({ AUTH_SECRET: secret })).AUTH_SECRET).toBe(secret);
    expect(loadConfig(env({})).AUTH_SECRET).toBeUndefined();
    expect(loadConfig(env({ AUTH_SECRET: "" })).AUTH_SECRET).toBeUndefined();
  });
});
