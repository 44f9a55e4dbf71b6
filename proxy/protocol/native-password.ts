import crypto from "node:crypto";

// mysql_native_password from the server's side. The client answers a scramble S with
//   token = SHA1(password) XOR SHA1(S + SHA1(SHA1(password)))
// The control plane stores only SHA1(SHA1(password)) ("*HEX" form). From the token and that hash the proxy
// recovers SHA1(password) and checks that hashing it once more gives the stored hash; with SHA1(password)
// it can then answer the compute's own scramble as the client would have.

const sha1 = (...parts: Buffer[]): Buffer => {
  const h = crypto.createHash("sha1");
  for (const p of parts) h.update(p);
  return h.digest();
};

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The 20-byte SHA1(SHA1(password)) from its stored "*HEX" form, or null when the form is wrong. */
export function parseStoredHash(stored: string): Buffer | null {
  return /^\*[0-9A-Fa-f]{40}$/.test(stored) ? Buffer.from(stored.slice(1), "hex") : null;
}

/**
 * Verify a client's token against the stored double hash. Returns SHA1(password) when it matches, null
 * otherwise (the comparison is constant-time).
 */
export function verifyNativeToken(scramble: Buffer, token: Buffer, doubleHash: Buffer): Buffer | null {
  if (token.length !== 20 || doubleHash.length !== 20) return null;
  const stage1 = xor(token, sha1(scramble, doubleHash));
  return crypto.timingSafeEqual(sha1(stage1), doubleHash) ? stage1 : null;
}

/** The token for a server's scramble from SHA1(password) (what a client computes from the password). */
export function nativeTokenFromStage1(scramble: Buffer, stage1: Buffer): Buffer {
  return xor(stage1, sha1(scramble, sha1(stage1)));
}

/** The token a client computes from the password itself (used by tests). */
export function nativeToken(scramble: Buffer, password: string): Buffer {
  if (password === "") return Buffer.alloc(0);
  return nativeTokenFromStage1(scramble, sha1(Buffer.from(password, "utf8")));
}
