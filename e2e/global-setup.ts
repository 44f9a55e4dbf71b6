import fs from "node:fs";
import { killComputes, launchScratch, scratchDataDir, scratchEnv } from "../scripts/scratch-product";

// The product for the end-to-end tests, started as `npm start` starts it (embedded PostgreSQL, migrations,
// the built app behind scripts/app-server.ts, the proxy, real mariadbd) on free ports and a scratch data
// directory; stopped, its computes killed and its directory removed afterwards. Tests read where it runs
// from the environment (inherited by the workers).
export default async function globalSetup() {
  const dataDir = scratchDataDir("msl-e2e");
  const env = await scratchEnv(dataDir, {
    PROXY_WORKERS: "1",
    // Several sign-ups and deliberate failures come from 127.0.0.1: the per-address limits would be shared
    // by all tests. The per-account sign-in limit keeps its default (5), which the rate-limit test meets.
    SIGNUPS_PER_ADDRESS: "1000",
    SIGNIN_FAILURES_PER_ADDRESS: "1000",
  });
  const product = await launchScratch(env);
  process.env.E2E_BASE_URL = product.baseUrl;
  process.env.E2E_PROXY_PORT = env.PROXY_PORT;
  process.env.E2E_DATA_DIR = dataDir;
  return async () => {
    await product.stop();
    killComputes(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
