import crypto from "node:crypto";

// One-time links (invitations "msi_", password resets "msr_"): 32 random bytes, shown once in the link;
// only the SHA-256 is stored (the token has full entropy, so a slow hash adds nothing).

export function generateLinkToken(prefix: "msi_" | "msr_"): { token: string; hash: string } {
  const token = prefix + crypto.randomBytes(32).toString("base64url");
  return { token, hash: hashLinkToken(token) };
}

export function hashLinkToken(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}
