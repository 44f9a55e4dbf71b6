import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { firstBarrier } from "./reachable-by";

// Asked of the kernel as another account: only root can spawn as one (the case it exists for: as root the
// embedded PostgreSQL runs as `postgres`). The account here is `nobody`'s ids, which owns nothing.
const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

describe("a directory another OS account cannot reach", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(asRoot)("names the first directory on the way that the account cannot enter, and nothing once it can", () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "reach-")); // 0700, as mktemp -d makes it
    made.push(top);
    const dataDir = path.join(top, "data", "postgres", "data");
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    fs.chmodSync(top, 0o700);
    expect(firstBarrier(dataDir, NOBODY)).toBe(top);
    fs.chmodSync(top, 0o711); // others may pass through, not list
    expect(firstBarrier(dataDir, NOBODY)).toBeNull();
    fs.chmodSync(path.join(top, "data"), 0o700);
    expect(firstBarrier(dataDir, NOBODY)).toBe(path.join(top, "data"));
  });
});
