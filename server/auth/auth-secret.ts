import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { config } from "../config";

/**
 * AUTH_SECRET when set; otherwise a secret generated once into DATA_DIR and kept, so sessions survive
 * restarts and the product runs with no Auth.js variables (DESIGN.md, "Configuration").
 */
export function authSecret(): string {
  // Read through config(): a placeholder or short secret is refused there (ConfigError naming AUTH_SECRET).
  const configured = config().AUTH_SECRET;
  if (configured) return configured;
  const file = path.join(config().dataDir, "secrets", "auth-secret");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const secret = crypto.randomBytes(32).toString("base64url");
    try {
      fs.writeFileSync(file, secret, { flag: "wx", mode: 0o600 });
      return secret;
    } catch {
      return fs.readFileSync(file, "utf8").trim(); // another process wrote it first
    }
  }
}
