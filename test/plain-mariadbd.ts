import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import mysql from "mysql2/promise";

// A plain local mariadbd in a scratch directory, without the product around it: for protocol tests that
// need a real server's packets and answers, not the control plane. Its root account is reached through
// the Unix socket; tests log in over TCP as `app` (all privileges), like a tenant's role.

const run = promisify(execFile);

export interface PlainMariadb {
  port: number;
  socketPath: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

export async function startPlainMariadb(): Promise<PlainMariadb> {
  const dir = await mkdtemp(path.join(tmpdir(), "plain-mariadbd-"));
  const dataDir = path.join(dir, "data");
  const socketPath = path.join(dir, "mariadbd.sock");
  const asRoot = process.getuid?.() === 0 ? ["--user=root"] : [];
  await run("mariadb-install-db", ["--no-defaults", `--datadir=${dataDir}`, "--auth-root-authentication-method=normal", "--skip-test-db", ...asRoot]);
  const port = await freePort();
  const child: ChildProcess = spawn(
    "mariadbd",
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      `--socket=${socketPath}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=32M",
      "--local-infile=1",
      "--max-connections=500",
      "--max-allowed-packet=64M",
      // a test that leaves a transaction open fails in seconds instead of hanging the next one for 50
      "--innodb-lock-wait-timeout=5",
      ...asRoot,
    ],
    { stdio: "ignore" },
  );
  // A test run that ends without its afterAll (a hook timeout, Ctrl-C) must not leave the server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let root: mysql.Connection | null = null;
    for (let i = 0; i < 200 && !root; i++) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}`);
      root = await mysql.createConnection({ socketPath, user: "root" }).catch(() => null);
      if (!root) await delay(100);
    }
    if (!root) throw new Error("mariadbd did not accept connections in 20 s");
    await root.query("CREATE USER app@'%' IDENTIFIED BY 'app-password'");
    await root.query("GRANT ALL ON *.* TO app@'%'");
    await root.query("CREATE DATABASE appdb");
    await root.query("CREATE DATABASE otherdb CHARACTER SET latin1");
    await root.end();
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, socketPath, user: "app", password: "app-password", stop };
}
