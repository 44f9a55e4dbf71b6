import path from "node:path";
import net from "node:net";
import { z } from "zod";

// The product's configuration, read from the environment and validated once. Every variable has a working
// default so `npm start` runs with none set (DESIGN.md, "Configuration").

/** An IPv4/IPv6 address, or one with a /prefix. */
function isAddressOrRange(value: string): boolean {
  const [address, prefix, extra] = value.split("/");
  if (extra !== undefined || !address || net.isIP(address) === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (net.isIPv4(address) ? 32 : 128);
}

const port = z.coerce.number().int().min(0).max(65535);

const AUTH_SECRET_HINT = (what: string) =>
  `AUTH_SECRET ${what}: set it to at least 32 random characters (generate one with \`openssl rand -base64 33\`), or leave it unset to have one generated into DATA_DIR`;

const EnvSchema = z.object({
  PORT: port.default(3000),
  PROXY_PORT: port.default(3307),
  PROXY_PUBLIC_HOST: z.string().min(1).default("127.0.0.1"),
  /** The proxy's port as clients reach it (a load balancer's), for connection strings; unset: PROXY_PORT. */
  PROXY_PUBLIC_PORT: port.optional().or(z.literal("").transform(() => undefined)),
  /**
   * Addresses (or CIDR ranges) of load balancers in front of the proxy that send the PROXY protocol (v1 or
   * v2) header: from them the client's own address is taken from it. Empty (the default): nobody.
   */
  PROXY_PROTOCOL_TRUSTED: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every(isAddressOrRange), "must be comma-separated IP addresses or CIDR ranges"),
  PROXY_METRICS_PORT: port.default(9307),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /**
   * Auth.js's secret; unset: one generated into DATA_DIR. A placeholder or a short one would let anybody who
   * guesses it forge sessions, so the product refuses to start with it.
   */
  AUTH_SECRET: z
    .string()
    .refine((v) => !v.toLowerCase().includes("change-me"), AUTH_SECRET_HINT("is still the example placeholder"))
    .refine((v) => v.length >= 32, AUTH_SECRET_HINT("is shorter than 32 characters"))
    .optional()
    .or(z.literal("").transform(() => undefined)),
  COMPUTE_DRIVER: z.enum(["local", "kubernetes"]).default("local"),
  COMPUTE_HOST: z.string().min(1).default("127.0.0.1"),
  /** The kubernetes driver's image: the official MariaDB image of the local driver's major version. */
  COMPUTE_IMAGE: z.string().min(1).default("docker.io/library/mariadb:10.11"),
  /** Organizations' namespaces are `<prefix><organization id>`. */
  KUBERNETES_NAMESPACE_PREFIX: z.string().regex(/^[a-z0-9-]{1,20}$/, "must be up to 20 of a-z, 0-9 and -").default("msl-org-"),
  /** The namespace of the platform's own pods (app, proxy): the only ones compute pods accept connections from. */
  KUBERNETES_PLATFORM_NAMESPACE: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/).max(63).default("mariadb-serverless"),
  /** The StorageClass of compute volumes; unset: the cluster's default. */
  KUBERNETES_STORAGE_CLASS: z.string().min(1).optional().or(z.literal("").transform(() => undefined)),
  /** The cluster's DNS domain, for the computes' Service names. */
  KUBERNETES_CLUSTER_DOMAIN: z.string().min(1).default("cluster.local"),
  /** How long a compute's first start (image pull, volume, init) may take on Kubernetes. */
  KUBERNETES_START_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  /** The storage layer's Page Server, passed to compute pods when set. */
  PAGESERVER_URL: z.string().min(1).optional().or(z.literal("").transform(() => undefined)),
  /** The storage layer's Safekeepers (comma-separated), passed to compute pods when set. */
  SAFEKEEPER_URLS: z.string().min(1).optional().or(z.literal("").transform(() => undefined)),
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  /** Starts, restarts, stops and pauses the scheduler runs at once, off its tick (one organization gets half). */
  SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  MIN_SUSPEND_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(604_800).default(60),
  /** How long a transitional state (resuming, suspending, ...) may last before the reconciler takes over. */
  TRANSITION_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
  /** How long a client waits for its compute to wake before it gets an error packet. */
  PROXY_WAKE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** A client that has not finished its handshake by then is dropped. */
  PROXY_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** On SIGTERM, open sessions may finish for this long before they are closed. */
  PROXY_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  PROXY_TLS_CERT: z.string().min(1).optional(),
  PROXY_TLS_KEY: z.string().min(1).optional(),
  /** Refuse clients that do not upgrade to TLS. */
  PROXY_TLS_REQUIRED: z.enum(["0", "1", "true", "false"]).default("0").transform((v) => v === "1" || v === "true"),
  /** Proxy processes: one per core (up to 8) when 0, the default; one process (no cluster) when 1. */
  PROXY_WORKERS: z.coerce.number().int().min(0).max(256).default(0),
  /** Connect to computes on this machine through their Unix socket rather than TCP (local driver). */
  PROXY_LOCAL_SOCKETS: z.enum(["0", "1", "true", "false"]).default("1").transform((v) => v === "1" || v === "true"),
  /** Logged-in compute connections a proxy process keeps idle per compute, role and client settings (0: none). */
  PROXY_POOL_IDLE_PER_KEY: z.coerce.number().int().min(0).max(1000).default(4),
  /** ... and per compute, over all roles and settings. */
  PROXY_POOL_IDLE_PER_COMPUTE: z.coerce.number().int().min(0).max(10_000).default(8),
  /** How long such a connection stays idle before the proxy closes it. */
  PROXY_POOL_IDLE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /**
   * Server connections a proxy process opens to one compute at most (issue 15); 0, the default, means 80 %
   * of the compute's max_connections (151: 120) shared among the proxy's worker processes, which leaves room
   * for direct sessions and the control plane.
   */
  PROXY_SERVER_CONNECTIONS_PER_COMPUTE: z.coerce.number().int().min(0).max(100_000).default(0),
  /** A client that waits this long for a server connection gets an error that the compute is at its limit. */
  PROXY_POOL_QUEUE_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(20),
  /** Client connections a proxy process accepts per compute (much more than server connections). */
  PROXY_CLIENT_CONNECTIONS_PER_COMPUTE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** How long a route (project, role hash, compute) may be served from the proxy's cache. */
  PROXY_ROUTE_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Largest request body the app reads (route handlers and Auth.js); larger ones get 413 before buffering. */
  HTTP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(64 * 1024),
  /**
   * Addresses (or CIDR ranges) of reverse proxies in front of the app whose X-Forwarded-For is believed;
   * empty (the default) means the client is the TCP peer and a client-sent X-Forwarded-For is ignored.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every(isAddressOrRange), "must be comma-separated IP addresses or CIDR ranges"),
  /** Failed sign-ins (and sign-ups naming a taken email) per client address per hour before backoff. */
  SIGNIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Failed sign-ins per account (email) per hour before backoff, from any address; reset on success. */
  SIGNIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1_000_000).default(5),
  /** Sign-ups per client address per hour before backoff. */
  SIGNUPS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(10),
  /** Longest backoff of the sign-in and sign-up limits (it doubles from 1 s per attempt over the allowance). */
  FRONT_DOOR_MAX_BACKOFF_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Unauthenticated (mid-handshake) proxy connections per client address; more get error 1040. */
  PROXY_PREAUTH_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(256),
  /** Unauthenticated proxy connections in all, from every address. */
  PROXY_PREAUTH_MAX: z.coerce.number().int().min(1).max(1_000_000).default(4096),
  /**
   * The console's public origin (e.g. https://db.example.com), for the absolute links the product prints
   * (invitations, password resets) and as an accepted Origin of cookie-authenticated changes. Unset: links
   * use the request's own origin (the admin command: http://127.0.0.1:PORT).
   */
  APP_URL: z
    .string()
    .url("must be an absolute URL such as https://db.example.com")
    .transform((u) => new URL(u).origin)
    .optional()
    .or(z.literal("").transform(() => undefined)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof EnvSchema> & { dataDir: string };

let cached: Config | undefined;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
}

/** The configuration of this process (parsed on first use). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** Read the environment again on next use (after a launcher filled in derived settings). */
export function resetConfig(): void {
  cached = undefined;
}
