import { describe, expect, it } from "vitest";
import { changesState, isOwnOrigin } from "./origin";

const headers = (h: Record<string, string>) => new Headers(h);

describe("isOwnOrigin", () => {
  it("accepts the host the request was sent to, and nothing else", () => {
    expect(isOwnOrigin("http://127.0.0.1:3000", headers({ host: "127.0.0.1:3000" }))).toBe(true);
    expect(isOwnOrigin("https://db.example.com", headers({ host: "10.0.0.5:3000", "x-forwarded-host": "db.example.com" }))).toBe(true);
    expect(isOwnOrigin("http://evil.example", headers({ host: "127.0.0.1:3000" }))).toBe(false);
    expect(isOwnOrigin("http://127.0.0.1:3001", headers({ host: "127.0.0.1:3000" }))).toBe(false);
    expect(isOwnOrigin(null, headers({ host: "127.0.0.1:3000" }))).toBe(false);
    expect(isOwnOrigin("null", headers({ host: "127.0.0.1:3000" }))).toBe(false);
    expect(isOwnOrigin("file://127.0.0.1:3000", headers({ host: "127.0.0.1:3000" }))).toBe(false);
  });

  it("applies to changes only", () => {
    expect(changesState("GET")).toBe(false);
    expect(changesState("HEAD")).toBe(false);
    expect(changesState("POST")).toBe(true);
    expect(changesState("PATCH")).toBe(true);
    expect(changesState("DELETE")).toBe(true);
  });
});

describe("publicOrigin", () => {
  it("is the host the request was sent to", async () => {
    const { publicOrigin } = await import("./origin");
    const req = (headers: Record<string, string>) => ({ url: "http://localhost:3000/api/v1/invitations", headers: new Headers(headers) });
    expect(publicOrigin(req({ host: "127.0.0.1:3000" }))).toBe("http://127.0.0.1:3000");
    expect(publicOrigin(req({ host: "10.0.0.5:3000", "x-forwarded-host": "db.example.com", "x-forwarded-proto": "https" }))).toBe(
      "https://db.example.com",
    );
    expect(publicOrigin(req({}))).toBe("http://localhost:3000");
  });
});
