import fs from "node:fs";

// The proxy's worker processes as bench:sessions measures them: memory and the client connections each holds.

export interface ProxyWorker {
  pid: number;
  rssMiB: number;
  /** Established TCP connections to the proxy port among the process's sockets: its clients. */
  clients: number;
}

/** Inodes of the established TCP connections whose local port is `port` (IPv4 and IPv6). */
function establishedTo(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is addr:port, st 01 is ESTABLISHED, the inode is field 9
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === "01" && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

function clientsOf(pid: string, clientInodes: Set<string>): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode && clientInodes.has(inode)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** The proxy's worker processes (the ones whose environment names this proxy port), by pid. */
export function proxyWorkers(proxyPort: number): ProxyWorker[] {
  const clientInodes = establishedTo(proxyPort);
  const found: ProxyWorker[] = [];
  for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (!env.includes(`PROXY_PORT=${proxyPort}`) || !env.some((v) => v.startsWith("PROXY_WORKER_INDEX="))) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (rss) found.push({ pid: Number(entry), rssMiB: Number(rss) / 1024, clients: clientsOf(entry, clientInodes) });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}
