import crypto from "node:crypto";

// MariaDB's mysql_native_password. The control plane stores only '*' + HEX(SHA1(SHA1(password))) and the
// proxy verifies a client's scrambled answer against it (DESIGN.md, "Proxy contract").

const sha1 = (data: Buffer | string): Buffer => crypto.createHash("sha1").update(data).digest();

export function nativePasswordHash(password: string): string {
  return "*" + sha1(sha1(password)).toString("hex").toUpperCase();
}

export function isNativePasswordHash(value: string): boolean {
  return /^\*[0-9A-F]{40}$/.test(value);
}

/** A new role password: 24 characters of letters and digits (no quoting trouble in URIs or shells). */
export function generateRolePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.randomBytes(24);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
