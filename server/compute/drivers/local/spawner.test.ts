import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { launchDetached } from "./spawner";

// The launch helper forks what the local driver starts: it must do all that spawnDetached did.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spawner-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function exitOf(launched: { exited: () => string | null }): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const exit = launched.exited();
    if (exit) return exit;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the process did not exit within 5 s");
}

describe("launchDetached", () => {
  it("starts the command in a session of its own, with only the given environment, its output appended to the log", async () => {
    const log = path.join(dir, "server.log");
    fs.writeFileSync(log, "before\n");
    const launched = await launchDetached("/bin/sh", ["-c", 'echo "out $GREETING ${HOME:-no home}"; echo err >&2; sleep 0.3; exit 3'], log, { GREETING: "hello", PATH: "/usr/bin:/bin" } as unknown as NodeJS.ProcessEnv);
    // Field 6 of /proc/<pid>/stat (after the command's parenthesis, the 4th) is the session id: its own.
    const stat = fs.readFileSync(`/proc/${launched.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    expect(Number(stat[3])).toBe(launched.pid);
    expect(await exitOf(launched)).toBe("exit code 3");
    expect(fs.readFileSync(log, "utf8")).toBe("before\nout hello no home\nerr\n");
  });

  it("reports a signal that ended it by name", async () => {
    const launched = await launchDetached("/bin/sh", ["-c", "kill -9 $$"], path.join(dir, "killed.log"), {} as NodeJS.ProcessEnv);
    expect(await exitOf(launched)).toBe("SIGKILL");
  });

  it("refuses a log path that is a symbolic link, and starts nothing", async () => {
    const target = path.join(dir, "someone-elses-file");
    fs.writeFileSync(target, "untouched\n");
    const link = path.join(dir, "link.log");
    fs.symlinkSync(target, link);
    await expect(launchDetached("/bin/sh", ["-c", "echo written"], link, {} as NodeJS.ProcessEnv)).rejects.toThrow(/could not start \/bin\/sh: open .*link\.log/);
    expect(fs.readFileSync(target, "utf8")).toBe("untouched\n");
  });

  it("says so when the command cannot be executed", async () => {
    const log = path.join(dir, "missing.log");
    const launched = await launchDetached(path.join(dir, "no-such-program"), [], log, {} as NodeJS.ProcessEnv);
    expect(await exitOf(launched)).toBe("exit code 127");
    expect(fs.readFileSync(log, "utf8")).toMatch(/exec .*no-such-program: No such file or directory/);
  });
});
