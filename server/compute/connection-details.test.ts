import { afterEach, describe, expect, it } from "vitest";
import { resetConfig } from "../config";
import { connectionDetails } from "./connection-details";

const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
  resetConfig();
});

describe("connection details", () => {
  it("use PROXY_PORT when no public port is set", () => {
    Object.assign(process.env, { PROXY_PORT: "3307", PROXY_PUBLIC_HOST: "db.example.com" });
    delete process.env.PROXY_PUBLIC_PORT;
    resetConfig();
    expect(connectionDetails({ projectSlug: "wispy-river-4821", role: "app", password: "pw", database: "main" })).toMatchObject({
      host: "db.example.com",
      port: 3307,
      uri: "mysql://wispy-river-4821.app:pw@db.example.com:3307/main",
    });
  });

  it("use PROXY_PUBLIC_PORT (a load balancer's port) when set", () => {
    Object.assign(process.env, { PROXY_PORT: "3307", PROXY_PUBLIC_PORT: "3306", PROXY_PUBLIC_HOST: "db.example.com" });
    resetConfig();
    expect(connectionDetails({ projectSlug: "wispy-river-4821", role: "app", password: null, database: "main" })).toMatchObject({
      port: 3306,
      uri: "mysql://wispy-river-4821.app@db.example.com:3306/main",
    });
  });
});
