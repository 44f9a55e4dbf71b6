import { ConfigError } from "../server/config";
import { isolationSummary } from "../server/compute/drivers/local/isolation";
import { launch } from "./launcher";

// `npm start`: the whole product on this machine. Ctrl-C or SIGTERM stops what it started; compute
// processes are detached and keep running, and the next start adopts them.

async function main() {
  const product = await launch();
  const { config } = product;
  console.log(`
  MariaDB Serverless is running.

  Console and API:  ${product.baseUrl}   (health: ${product.baseUrl}/api/health)
  MySQL proxy:      ${config.PROXY_PUBLIC_HOST}:${config.PROXY_PUBLIC_PORT ?? config.PROXY_PORT}
  Data directory:   ${config.dataDir}
  Tenant isolation: ${config.COMPUTE_DRIVER === "local" ? await isolationSummary() : "the Kubernetes pod of each compute"}

  Sign up:          curl -s ${product.baseUrl}/api/v1/signup -H 'content-type: application/json' \\
                      -d '{"email":"you@example.com","password":"a long password"}'
  Then create a project and its compute (see README), and connect with
                    mariadb -h ${config.PROXY_PUBLIC_HOST} -P ${config.PROXY_PUBLIC_PORT ?? config.PROXY_PORT} -u <project-slug>.app -p
`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the app${config.DATABASE_URL ? "" : " and the embedded PostgreSQL"} (computes keep running) ...`);
    await product.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
