import { db } from "../db";
import { AppError } from "../errors";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../auth/password";
import { hashApiKeySecret, API_KEY_PREFIX } from "../auth/api-key-secret";
import type { Caller } from "./caller";

/** Email and password, for Auth.js's credentials provider. Null when either is wrong (same time either way). */
export async function verifyUserCredentials(email: string, password: string) {
  const user = await db.user.findUnique({
    where: { email: email.trim().toLowerCase() },
    select: { id: true, email: true, name: true, passwordHash: true },
  });
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok) return null;
  return { id: user.id, email: user.email, name: user.name };
}

/** The caller behind a console session: the user's organizations, the oldest membership first. */
export async function callerFromUser(userId: string): Promise<Caller> {
  const memberships = await db.membership.findMany({
    where: { userId },
    orderBy: { createdAt: "asc" },
    select: { organizationId: true },
  });
  const first = memberships[0];
  if (!first) throw new AppError("unauthenticated", "the session's user no longer exists; sign in again");
  return {
    actor: `user:${userId}`,
    userId,
    apiKeyId: null,
    organizationIds: memberships.map((m) => m.organizationId),
    organizationId: first.organizationId,
  };
}

// lastUsedAt is written at most this often per key, so API calls don't each cost a write.
const LAST_USED_RESOLUTION_MS = 60_000;

/** The caller behind `Authorization: Bearer <api key>`: acts in the key's one organization. */
export async function callerFromApiKey(secret: string): Promise<Caller> {
  const invalid = new AppError("unauthenticated", "the API key is not valid or has been revoked");
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) throw invalid;
  const key = await db.apiKey.findUnique({
    where: { hash: hashApiKeySecret(secret) },
    select: { id: true, organizationId: true, createdById: true, revokedAt: true, lastUsedAt: true },
  });
  if (!key || key.revokedAt) throw invalid;
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } });
  }
  return {
    actor: `api_key:${key.id}`,
    userId: key.createdById,
    apiKeyId: key.id,
    organizationIds: [key.organizationId],
    organizationId: key.organizationId,
  };
}
