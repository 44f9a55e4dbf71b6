import fs from "node:fs";
import type { TestProject } from "vitest/node";
import type { Product } from "../scripts/launcher";
import { killComputes, launchScratch, scratchDataDir, scratchEnv } from "../scripts/scratch-product";

// Integration tests run against the real product, started the way `npm start` starts it: embedded
// PostgreSQL, migrations, `next start`, the local compute driver with real mariadbd. Everything lives in a
// fresh data directory that is removed afterwards.

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    dataDir: string;
    proxyPort: number;
    metricsPort: number;
  }
}

let product: Product | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject) {
  dataDir = scratchDataDir("msl-test");
  const env = await scratchEnv(dataDir, {
    PROXY_HANDSHAKE_TIMEOUT_MS: "3000",
    PROXY_WAKE_TIMEOUT_MS: "15000",
    // Two proxy workers whatever the machine: sessions, KILL and throttling are tested across workers.
    PROXY_WORKERS: "2",
    // Every test signs up and signs in from 127.0.0.1, and the front-door limits are per address: this
    // product lets them all through. test/front-door.int.test.ts runs an app of its own on the defaults.
    SIGNUPS_PER_ADDRESS: "1000000",
    SIGNIN_FAILURES_PER_ADDRESS: "1000000",
  });
  product = await launchScratch(env);
  // Test files read these from the environment too (they are inherited by the test workers).
  process.env.DATABASE_URL = product.databaseUrl;
  process.env.DATA_DIR = dataDir;
  process.env.TEST_BASE_URL = product.baseUrl;
  for (const [k, v] of Object.entries(env)) if (k !== "DATABASE_URL") process.env[k] = v;
  project.provide("baseUrl", product.baseUrl);
  project.provide("databaseUrl", product.databaseUrl);
  project.provide("dataDir", dataDir);
  project.provide("proxyPort", Number(env.PROXY_PORT));
  project.provide("metricsPort", Number(env.PROXY_METRICS_PORT));
}

export async function teardown() {
  await product?.stop();
  if (dataDir) {
    killComputes(dataDir); // computes are detached on purpose; the test run ends them with its data directory
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
