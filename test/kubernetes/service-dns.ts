import dns from "node:dns";
import type { FakeKubernetes } from "./fake-api-server";

// Cluster DNS for this test process: `<service>.<namespace>.svc.<domain>` resolves to the Service's
// clusterIP in the fake API server (a loopback address the fake kubelet binds the pod's server to), as
// CoreDNS resolves it in a cluster. Every other name resolves as before. Node's net.connect (and so the
// proxy's and the driver's MariaDB connections) looks names up through dns.lookup.

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

export function installServiceDns(api: FakeKubernetes, domain = "cluster.local"): () => void {
  const original = dns.lookup;
  const suffix = `.svc.${domain}`;
  const patched = ((hostname: string, options: unknown, callback?: LookupCallback) => {
    const cb = (typeof options === "function" ? options : callback) as LookupCallback;
    const opts = (typeof options === "object" && options !== null ? options : {}) as dns.LookupOptions;
    if (!hostname.endsWith(suffix)) return (original as (...a: unknown[]) => void)(hostname, options, callback);
    const [service, namespace] = hostname.slice(0, -suffix.length).split(".");
    const ip = service && namespace ? (api.get("Service", namespace, service)?.spec?.clusterIP as string | undefined) : undefined;
    process.nextTick(() => {
      if (!ip) {
        const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code = "ENOTFOUND";
        return cb(error, opts.all ? [] : "", 4);
      }
      return opts.all ? cb(null, [{ address: ip, family: 4 }]) : cb(null, ip, 4);
    });
  }) as typeof dns.lookup;
  dns.lookup = patched;
  return () => {
    dns.lookup = original;
  };
}
