import crypto from "node:crypto";

// A PostgreSQL SCRAM-SHA-256 password verifier computed here (RFC 5802/7677, as PostgreSQL's
// scram_build_secret does), so `ALTER ROLE ... PASSWORD '<verifier>'` never carries the password itself:
// it cannot end up in PostgreSQL's log (log_statement, an error's STATEMENT line) or in pg_stat_statements.
// PostgreSQL stores a string of this form as is.

const ITERATIONS = 4096;

function hmac(key: Buffer, data: string): Buffer {
  return crypto.createHmac("sha256", key).update(data).digest();
}

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. The password must be ASCII (our generated
 * ones are base64url): SASLprep leaves ASCII untouched, so no normalisation is needed.
 */
export function scramVerifier(password: string, salt: Buffer = crypto.randomBytes(16)): string {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new Error("scramVerifier: only printable ASCII passwords are supported");
  const salted = crypto.pbkdf2Sync(password, salt, ITERATIONS, 32, "sha256");
  const storedKey = crypto.createHash("sha256").update(hmac(salted, "Client Key")).digest();
  const serverKey = hmac(salted, "Server Key");
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
