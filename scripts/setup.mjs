#!/usr/bin/env node
// Installs the Debian packages the product needs when they are missing: mariadbd for the local compute
// driver (and, with --test, the mariadb client used by the tests). Runs before `npm start` and `npm test`.
// As root it installs them with apt-get; otherwise it stops with the exact command to run.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";

const forTests = process.argv.includes("--test");

function has(binary) {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin"]);
  return dirs.some((dir) => fs.existsSync(`${dir}/${binary}`));
}

const wanted = [
  ["mariadbd", "mariadb-server-core"],
  ["mariadb-install-db", "mariadb-server-core"],
  ...(forTests ? [["mariadb", "mariadb-client"]] : []),
];
if (process.env.COMPUTE_DRIVER === "kubernetes" && !forTests) wanted.length = 0;

const missing = [...new Set(wanted.filter(([bin]) => !has(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const command = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
if (process.getuid?.() !== 0) {
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
