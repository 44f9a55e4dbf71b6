import { db } from "../db";
import { AppError } from "../errors";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../auth/password";
import { hashApiKeySecret, API_KEY_PREFIX } from "../auth/api-key-secret";
import { inOrganization, type Caller } from "./caller";
import { verifiedCaller } from "./verified-callers";
import { lowerRole, type MemberRole } from "@/lib/roles";

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

/**
 * The caller behind a console session: every organization the user belongs to, with its role in each,
 * acting in the user's current organization (or the oldest membership when none is set or it was left).
 * Looked up on every request, so a removed member's session loses access at once.
 */
export async function callerFromUser(userId: string): Promise<Caller> {
  const user = await db.user.findUnique({
    where: { id: userId },
    select: {
      email: true,
      currentOrganizationId: true,
      memberships: { orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { organizationId: true, role: true } },
    },
  });
  if (!user) throw new AppError("unauthenticated", "the session's user no longer exists; sign in again");
  const roles = Object.fromEntries(user.memberships.map((m) => [m.organizationId, m.role])) as Record<string, MemberRole>;
  const first = user.memberships[0];
  // A user who left every organization may still create one or accept an invitation; anything scoped to an
  // organization finds none ("organization not found").
  if (!first) {
    return { actor: `user:${userId}`, userId, email: user.email, apiKeyId: null, organizationIds: [], roles, organizationId: "", role: "viewer" };
  }
  const current = user.currentOrganizationId && roles[user.currentOrganizationId] ? user.currentOrganizationId : first.organizationId;
  return {
    actor: `user:${userId}`,
    userId,
    email: user.email,
    apiKeyId: null,
    organizationIds: user.memberships.map((m) => m.organizationId),
    roles,
    organizationId: current,
    role: roles[current]!,
  };
}

// lastUsedAt is written at most this often per key, so API calls don't each cost a write.
const LAST_USED_RESOLUTION_MS = 60_000;

const invalidKey = () => new AppError("unauthenticated", "the API key is not valid or has been revoked");

/**
 * The caller behind `Authorization: Bearer <api key>`: acts in the key's one organization with the key's
 * role, capped by its creator's current role there (a demoted creator's keys are demoted with them; a
 * removed member's keys are revoked). Looked up at most once a second per key and replica, and at once
 * after a change to keys or memberships (server/tenancy/verified-callers.ts).
 */
export async function callerFromApiKey(secret: string): Promise<Caller> {
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) throw invalidKey();
  // SHA-256, not a slow hash: the secret is 256 random bits (server/auth/api-key-secret.ts).
  const hash = hashApiKeySecret(secret);
  return verifiedCaller(hash, () => lookUpApiKey(hash));
}

async function lookUpApiKey(hash: string): Promise<Caller> {
  const invalid = invalidKey();
  const key = await db.apiKey.findUnique({
    where: { hash },
    select: {
      id: true,
      organizationId: true,
      createdById: true,
      role: true,
      revokedAt: true,
      lastUsedAt: true,
      createdBy: { select: { email: true, memberships: { select: { organizationId: true, role: true } } } },
    },
  });
  if (!key || key.revokedAt) throw invalid;
  let role: MemberRole = key.role;
  if (key.createdBy) {
    const creatorRole = key.createdBy.memberships.find((m) => m.organizationId === key.organizationId)?.role;
    // The creator left or was removed (their keys are revoked then; this covers a race with it).
    if (!creatorRole) throw invalid;
    role = lowerRole(role, creatorRole);
  }
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } });
  }
  return {
    actor: `api_key:${key.id}`,
    userId: key.createdById,
    email: key.createdBy?.email ?? null,
    apiKeyId: key.id,
    organizationIds: [key.organizationId],
    roles: { [key.organizationId]: role },
    organizationId: key.organizationId,
    role,
  };
}

/**
 * The caller behind a console server action: the signed-in user, acting in the organization the page names
 * (404 when the user is not in it) or else their current one. The same rules as the REST API follow from
 * it, since every service function authorizes with the caller it is given.
 */
export async function callerForSession({ userId, organizationId }: { userId: string; organizationId?: string | null }): Promise<Caller> {
  const caller = await callerFromUser(userId);
  return organizationId ? inOrganization(caller, organizationId) : caller;
}
