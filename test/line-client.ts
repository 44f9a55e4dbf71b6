import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import readline from "node:readline";

// A client program in another language (Java, PHP) that the test drives line by line: it prints one JSON
// line per report and waits for a line on stdin between them.

export interface LineClient {
  /** The next line it prints, parsed as JSON; rejects with its stderr if it exits first. */
  next<T>(): Promise<T>;
  /** Lets it go on past its wait on stdin. */
  goOn(): void;
  /** Its exit code once it ends (it ends after its last report). */
  exited(): Promise<number | null>;
  kill(): void;
}

export function startLineClient(command: string, args: string[], cwd: string): LineClient {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let ended = false;
  const exit = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      ended = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`${command} exited (${code}) before printing a report:\n${stderr}`));
      resolve(code);
    }),
  );
  child.on("error", (e) => {
    for (const w of waiting.splice(0)) w.reject(e);
  });
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    const w = waiting.shift();
    if (w) w.resolve(line);
    else lines.push(line);
  });
  return {
    next<T>() {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(JSON.parse(line) as T);
      if (ended) return Promise.reject(new Error(`${command} has exited:\n${stderr}`));
      return new Promise<string>((resolve, reject) => waiting.push({ resolve, reject })).then((l) => JSON.parse(l) as T);
    },
    goOn: () => child.stdin.write("\n"),
    exited: async () => {
      const code = await exit;
      if (code !== 0) throw new Error(`${command} exited with ${code}:\n${stderr}`);
      return code;
    },
    kill: () => {
      if (!ended) child.kill("SIGKILL");
    },
  };
}
