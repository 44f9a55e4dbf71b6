import crypto from "node:crypto";

// API keys: "msk_" + 32 random bytes. Only the SHA-256 is stored (the secret has full entropy, so a slow
// hash adds nothing); the first characters are kept as a visible prefix to tell keys apart.

export const API_KEY_PREFIX = "msk_";
const VISIBLE_PREFIX_LENGTH = 12;

export function generateApiKeySecret(): { secret: string; prefix: string; hash: string } {
  const secret = API_KEY_PREFIX + crypto.randomBytes(32).toString("base64url");
  return { secret, prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH), hash: hashApiKeySecret(secret) };
}

export function hashApiKeySecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}
