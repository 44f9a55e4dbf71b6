import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import { logger } from "../../../logger";
import { spawnDetached } from "./process";

// Every cold start execs a new mariadbd (through its sandbox's launcher). Spawned from the control plane's
// own process, that exec begins with a fork of a Node process of 300-500 MB: 7-12 ms of page tables copied
// with the event loop stopped, about a tenth of a whole cold start (issue 12). So the fork is made by a
// small helper instead: one Perl process per control-plane process (perl-base is Essential on Debian, so
// it is always there), started at the first launch and kept, which forks in well under a millisecond. It
// does what `spawnDetached` does - a new session, stdin from /dev/null, stdout and stderr appended to the
// log (opened without following a symbolic link and given to the account the server drops to), the given
// environment - and reports the pid, then the exit of each child it started. Where the helper cannot run,
// or dies, launches fall back to `spawnDetached`.

/** What a launch returns: the process and, once it has exited, how (exit code or signal name). */
export interface Launched {
  pid: number;
  exited: () => string | null;
}

interface Pending {
  resolve: (pid: number) => void;
  reject: (error: Error) => void;
}

// Requests: NUL-terminated fields - id, command, log path, log owner uid and gid (-1: none), the argument
// count and the arguments, the environment count and its KEY=VALUE entries. Replies, a line each:
// "pid <id> <pid>", "fail <id> <reason>", "exit <pid> <wait status>".
const HELPER = String.raw`
use strict; use warnings; use POSIX qw(setsid WNOHANG _exit); use Fcntl qw(O_WRONLY O_APPEND O_CREAT O_NOFOLLOW);
$| = 1; $/ = "\0";
$SIG{CHLD} = sub { while ((my $p = waitpid(-1, WNOHANG)) > 0) { print "exit $p $?\n"; } };
sub field { my $f = <STDIN>; exit 0 unless defined $f; chomp $f; return $f; }
while (1) {
  my $id = field(); my $cmd = field(); my $log = field(); my $uid = field(); my $gid = field();
  my @args = map { field() } 1 .. field();
  my %env = map { my ($k, $v) = split /=/, field(), 2; ($k, $v) } 1 .. field();
  my $fh;
  if (!sysopen($fh, $log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0640)) { print "fail $id open $log: $!\n"; next; }
  if ($uid >= 0 && !chown($uid, $gid, $fh)) { print "fail $id chown $log: $!\n"; close $fh; next; }
  my $pid = fork();
  if (!defined $pid) { print "fail $id fork: $!\n"; close $fh; next; }
  if ($pid == 0) {
    $SIG{CHLD} = 'DEFAULT';
    setsid();
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $fh); open(STDERR, '>&', $fh);
    %ENV = %env;
    { no warnings 'exec'; exec { $cmd } $cmd, @args; }
    print STDERR "exec $cmd: $!\n"; _exit(127);
  }
  close $fh;
  print "pid $id $pid\n";
}
`;

class Spawner {
  private helper: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly exits = new Map<number, string>();
  private buffered = "";

  private start(): ChildProcess {
    // Its own environment is next to nothing: it gives each child the one asked for, and needs none of the
    // control plane's settings and secrets (nor to be mistaken for the process it serves).
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" } as unknown as NodeJS.ProcessEnv;
    const helper = spawn("perl", ["-e", HELPER], { stdio: ["pipe", "pipe", "inherit"], env });
    helper.stdout!.setEncoding("utf8");
    helper.stdout!.on("data", (chunk: string) => this.read(chunk));
    const gone = (why: string) => {
      if (this.helper !== helper) return;
      this.helper = null;
      for (const [, p] of this.pending) p.reject(new Error(`the launch helper ${why}`));
      this.pending.clear();
    };
    helper.on("error", (error) => {
      unavailable = true; // no perl here: fork from this process from now on
      gone(`could not run: ${error.message}`);
    });
    helper.on("exit", (code, signal) => gone(`exited (${signal ?? code})`));
    helper.stdin!.on("error", () => undefined); // seen as the exit
    // The helper must not keep the control plane running: only a launch waiting for its pid does.
    helper.unref();
    this.hold(helper, false);
    this.helper = helper;
    return helper;
  }

  private hold(helper: ChildProcess, waiting: boolean): void {
    for (const pipe of [helper.stdout, helper.stdin] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (waiting) pipe.ref?.();
      else pipe.unref?.();
    }
  }

  private read(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const [kind, a, ...rest] = line.split(" ");
      if (kind === "exit") {
        this.exits.set(Number(a), waitStatus(Number(rest[0])));
        // Read while a start waits for its server; old ones are of no use (a pid is reused in time).
        if (this.exits.size > 1000) this.exits.delete(this.exits.keys().next().value!);
      }
      else if (kind === "pid" || kind === "fail") {
        const p = this.pending.get(Number(a));
        this.pending.delete(Number(a));
        if (kind === "pid") {
          this.exits.delete(Number(rest[0])); // an earlier process's, under a pid the kernel has reused
          p?.resolve(Number(rest[0]));
        }
        else p?.reject(new Error(rest.join(" ")));
        if (this.pending.size === 0 && this.helper) this.hold(this.helper, false);
      }
    }
  }

  launch(command: string, args: readonly string[], logPath: string, env: NodeJS.ProcessEnv, logOwner: { uid: number; gid: number } | null): Promise<number> {
    const helper = this.helper ?? this.start();
    const id = this.nextId++;
    const entries = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].includes("="));
    const fields = [String(id), command, logPath, String(logOwner?.uid ?? -1), String(logOwner?.gid ?? -1), String(args.length), ...args, String(entries.length), ...entries.map(([k, v]) => `${k}=${v}`)];
    if (fields.some((f) => f.includes("\0"))) return Promise.reject(new Error("a launch argument holds a NUL byte"));
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.hold(helper, true);
      helper.stdin!.write(fields.map((f) => `${f}\0`).join(""));
    });
  }

  warm(): void {
    if (!this.helper) this.start();
  }

  exitOf(pid: number): string | null {
    return this.exits.get(pid) ?? null;
  }

}

/** A wait(2) status as `spawnDetached` reports it: the signal's name, or "exit code N". */
function waitStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) return `exit code ${(status >> 8) & 0xff}`;
  const name = Object.entries(os.constants.signals as Record<string, number>).find(([, n]) => n === signal)?.[0];
  return name ?? `signal ${signal}`;
}

let spawner: Spawner | null = null;
let unavailable = false;

/** Start the helper now (Perl takes some 15 ms to start), so that the first cold start does not wait for it. */
export function warmLauncher(): void {
  if (unavailable) return;
  spawner ??= new Spawner();
  spawner.warm();
}

/**
 * Start a server as `spawnDetached` does, forked by the small helper; through `spawnDetached` when the
 * helper cannot be used.
 */
export async function launchDetached(
  command: string,
  args: readonly string[],
  logPath: string,
  env: NodeJS.ProcessEnv,
  logOwner: { uid: number; gid: number } | null = null,
): Promise<Launched> {
  if (!unavailable) {
    spawner ??= new Spawner();
    try {
      const pid = await spawner.launch(command, args, logPath, env, logOwner);
      const own = spawner;
      return { pid, exited: () => own.exitOf(pid) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A helper that died with this launch under way may have forked it: the start fails (and is tried
      // again by whoever asked), rather than risk a second server on the same data.
      if (!unavailable) throw new Error(`could not start ${command}: ${message}`);
      logger.warn({ err: message }, "the launch helper cannot run; computes are forked from this process");
    }
  }
  const server = spawnDetached(command, args, logPath, env, logOwner);
  return { pid: server.pid, exited: server.exited };
}
