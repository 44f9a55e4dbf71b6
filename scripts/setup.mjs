#!/usr/bin/env node
// Installs the Debian packages the product needs when they are missing: mariadbd and bubblewrap for the local
// compute driver (and, with --test, the mariadb client, Chromium, and the Java and PHP clients the tests drive). Runs before `npm start` and `npm test`.
// As root it installs them with apt-get; otherwise it stops with the exact command to run.
// As root it also creates the unprivileged OS user the local driver runs mariadbd as (the driver creates it
// too when missing: server/compute/drivers/local/os-user.ts, whose name and useradd arguments this repeats).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";

const forTests = process.argv.includes("--test");
const isRoot = process.getuid?.() === 0;
const localDriver = forTests || process.env.COMPUTE_DRIVER !== "kubernetes";

const COMPUTE_OS_USER = "mariadb-compute";
const sbinPath = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;

function userExists(name) {
  // getent exits with 2 when there is no such user.
  return spawnSync("getent", ["passwd", name], { stdio: "ignore", env: { ...process.env, PATH: sbinPath } }).status === 0;
}

// A system account with no home and no login shell. Another process (a control plane starting) may create
// it at the same moment: useradd's "already exists" (exit code 9) is success, any other failure is tried
// again after checking whether the other process has succeeded meanwhile.
function ensureComputeUser() {
  const shell = ["/usr/sbin/nologin", "/sbin/nologin"].find((p) => fs.existsSync(p)) ?? "/bin/false";
  const args = ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", shell, COMPUTE_OS_USER];
  let reason = "";
  for (let attempt = 1; attempt <= 5; attempt++) {
    if (userExists(COMPUTE_OS_USER)) return;
    const result = spawnSync("useradd", args, { stdio: ["ignore", "inherit", "pipe"], env: { ...process.env, PATH: sbinPath } });
    if (result.status === 0) {
      console.log(`Created the OS user ${COMPUTE_OS_USER} that runs the compute servers.`);
      return;
    }
    if (result.status === 9) return;
    reason = result.error?.message ?? String(result.stderr ?? "").trim();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100 * attempt);
  }
  if (userExists(COMPUTE_OS_USER)) return;
  console.error(`Could not create the OS user ${COMPUTE_OS_USER} (${reason}). Create it yourself:\n\n  useradd --system --no-create-home --shell /usr/sbin/nologin ${COMPUTE_OS_USER}\n`);
  process.exit(1);
}

if (isRoot && localDriver) ensureComputeUser();

// A binary on the PATH, an absolute file path, or a check function.
function has(what) {
  if (typeof what === "function") return what();
  if (what.startsWith("/")) return fs.existsSync(what);
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin"]);
  return dirs.some((dir) => fs.existsSync(`${dir}/${what}`));
}

const phpHasPdoMysql = () =>
  has("php") && spawnSync("php", ["-r", "exit(extension_loaded('pdo_mysql') ? 0 : 1);"], { stdio: "ignore" }).status === 0;

const wanted = [
  ["mariadbd", "mariadb-server-core"],
  ["mariadb-install-db", "mariadb-server-core"],
  // mariadb-install-db stops with "Could not find /usr/bin/my_print_defaults" without it, and Debian 12's
  // mariadb-server-core does not depend on the package that has it.
  ["my_print_defaults", "mariadb-client-core"],
  // The sandbox each compute server runs in (server/compute/drivers/local/sandbox.ts); only root uses it.
  ...(isRoot ? [["bwrap", "bubblewrap"]] : []),
  ...(forTests ? [["mariadb", "mariadb-client"]] : []),
];
// The end-to-end tests drive Debian's Chromium (Playwright's own browser download does not work offline).
const browsers = forTests ? [["chromium", "chromium"]] : [];
// Other real clients the parking tests drive (test/proxy-parking-clients.int.test.ts): MariaDB Connector/J
// from a single-file Java program (javac's compiler runs it) and PHP's PDO mysql.
const otherClients = forTests
  ? [
      ["javac", "openjdk-17-jdk-headless"],
      ["/usr/share/java/mariadb-java-client.jar", "libmariadb-java"],
      ["php", "php-cli"],
      [phpHasPdoMysql, "php-mysql"],
    ]
  : [];
if (!localDriver) wanted.length = 0;
wanted.push(...browsers, ...otherClients);

const missing = [...new Set(wanted.filter(([bin]) => !has(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const command = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
if (!isRoot) {
  console.error(`Missing Debian packages: ${missing.join(", ")}. Install them, then run this again:\n\n  sudo apt-get update && sudo ${command}\n`);
  process.exit(1);
}
console.log(`Installing ${missing.join(", ")} with apt-get ...`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
if (update.status !== 0) console.warn("apt-get update failed; trying the install with the current package lists");
try {
  execFileSync("sh", ["-c", command], { stdio: "inherit", env });
} catch {
  console.error(`\nThe install failed. Run it by hand and start again:\n\n  ${command}\n`);
  process.exit(1);
}
