import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keptSecret, readKeptSecret } from "./kept-secret";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kept-secret-"));
  dirs.push(dir);
  return dir;
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe("keptSecret", () => {
  it("generates once, keeps it, and keeps it private (dir 0700, file 0600)", () => {
    const dir = dataDir();
    expect(readKeptSecret(dir, "pw")).toBeUndefined();
    const first = keptSecret(dir, "pw");
    expect(first.created).toBe(true);
    expect(first.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keptSecret(dir, "pw")).toEqual({ value: first.value, created: false });
    expect(readKeptSecret(dir, "pw")).toBe(first.value);
    expect(mode(path.join(dir, "secrets"))).toBe(0o700);
    expect(mode(path.join(dir, "secrets", "pw"))).toBe(0o600);
  });

  it("narrows modes that were widened (a copy, a restore)", () => {
    const dir = dataDir();
    keptSecret(dir, "pw");
    fs.chmodSync(path.join(dir, "secrets"), 0o755);
    fs.chmodSync(path.join(dir, "secrets", "pw"), 0o644);
    keptSecret(dir, "pw");
    expect(mode(path.join(dir, "secrets"))).toBe(0o700);
    expect(mode(path.join(dir, "secrets", "pw"))).toBe(0o600);
  });
});
