import path from "node:path";
import { z } from "zod";

// The product's configuration, read from the environment and validated once. Every variable has a working
// default so `npm start` runs with none set (DESIGN.md, "Configuration").

const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  PORT: port.default(3000),
  PROXY_PORT: port.default(3307),
  PROXY_PUBLIC_HOST: z.string().min(1).default("127.0.0.1"),
  PROXY_METRICS_PORT: port.default(9307),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  COMPUTE_DRIVER: z.enum(["local", "kubernetes"]).default("local"),
  COMPUTE_HOST: z.string().min(1).default("127.0.0.1"),
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  MIN_SUSPEND_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(604_800).default(60),
  /** How long a transitional state (resuming, suspending, ...) may last before the reconciler takes over. */
  TRANSITION_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
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
