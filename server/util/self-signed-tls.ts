import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * A self-signed certificate for the proxy's TLS in local use, made once into DATA_DIR/tls with Debian's
 * openssl (Node cannot make X.509 certificates by itself). Its names cover localhost and *.localhost, so a
 * server name `<project-slug>.localhost` routes by SNI.
 */
export function ensureSelfSignedPair(dataDir: string): { cert: string; key: string } {
  const dir = path.join(dataDir, "tls");
  const cert = path.join(dir, "proxy.crt");
  const key = path.join(dir, "proxy.key");
  if (fs.existsSync(cert) && fs.existsSync(key)) return { cert, key };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync(
    "openssl",
    [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",
      "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1",
      "-keyout", `${key}.tmp`, "-out", `${cert}.tmp`,
    ],
    { stdio: "ignore" },
  );
  fs.chmodSync(`${key}.tmp`, 0o600);
  fs.renameSync(`${key}.tmp`, key);
  fs.renameSync(`${cert}.tmp`, cert);
  return { cert, key };
}
