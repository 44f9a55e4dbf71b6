import { describe, expect, it } from "vitest";
import { isSameOrigin } from "./same-origin";

const req = (headers: Record<string, string>) => new Request("http://127.0.0.1:3000/api/v1/projects", { method: "POST", headers });

describe("same-origin check for cookie-authenticated changes", () => {
  it("accepts the app's own origin only", () => {
    expect(isSameOrigin(req({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" }))).toBe(true);
    expect(isSameOrigin(req({ host: "127.0.0.1:3000", origin: "http://evil.example" }))).toBe(false);
    expect(isSameOrigin(req({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3001" }))).toBe(false);
    expect(isSameOrigin(req({ host: "127.0.0.1:3000", origin: "null" }))).toBe(false);
    expect(isSameOrigin(req({ host: "127.0.0.1:3000" }))).toBe(false);
  });
});
