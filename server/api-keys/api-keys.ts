import { db } from "../db";
import { AppError, notFound } from "../errors";
import { generateApiKeySecret } from "../auth/api-key-secret";
import type { Pagination } from "@/lib/schemas";
import { roleAtLeast, type MemberRole } from "@/lib/roles";
import { page } from "../util/paginate";
import { authorize, type Caller } from "../tenancy/caller";
import { recordAuditEvent } from "../audit/record-audit-event";
import { forgetVerifiedCallers } from "../tenancy/verified-callers";

const PUBLIC_FIELDS = {
  id: true,
  name: true,
  role: true,
  prefix: true,
  organizationId: true,
  createdById: true,
  createdAt: true,
  lastUsedAt: true,
} as const;

/** A key stored without any check (operators' tools and tests); the secret is in the result once. */
export async function issueApiKey({
  organizationId,
  name,
  role,
  createdById,
}: {
  organizationId: string;
  name: string;
  role: MemberRole;
  createdById: string | null;
}) {
  const { secret, prefix, hash } = generateApiKeySecret();
  const apiKey = await db.apiKey.create({ data: { organizationId, name, role, prefix, hash, createdById }, select: PUBLIC_FIELDS });
  return { apiKey, key: secret };
}

/**
 * A new key in the organization, acting with `role` (by default the caller's own) and never above the
 * caller's role: members and above may make keys, viewers may not. The secret is in the result once and
 * never stored.
 */
export async function createApiKey({
  caller,
  organizationId,
  name,
  role,
}: {
  caller: Caller;
  organizationId: string;
  name: string;
  role?: MemberRole;
}) {
  const callerRole = authorize(caller, organizationId, "api_keys.write");
  const keyRole = role ?? callerRole;
  if (!roleAtLeast(callerRole, keyRole)) {
    throw new AppError("forbidden", `an API key cannot have a higher role than its creator's: yours is ${callerRole}, the key asked for ${keyRole}`, [
      { path: "role", message: `must be ${callerRole} or lower` },
    ]);
  }
  const { secret, prefix, hash } = generateApiKeySecret();
  const apiKey = await db.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: { organizationId, name, role: keyRole, prefix, hash, createdById: caller.userId },
      select: PUBLIC_FIELDS,
    });
    await recordAuditEvent({
      client: tx,
      organizationId,
      actor: caller,
      action: "api_key.created",
      targetType: "api_key",
      targetId: created.id,
      targetLabel: `${name} (${prefix}…)`,
      details: { role: keyRole },
    });
    return created;
  });
  return { apiKey, key: secret };
}

export async function listApiKeys({ organizationIds, pagination }: { organizationIds: string[]; pagination: Pagination }) {
  const rows = await db.apiKey.findMany({
    where: { organizationId: { in: organizationIds }, revokedAt: null },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: PUBLIC_FIELDS,
    ...page.query(pagination),
  });
  return page.result(rows, pagination);
}

/**
 * Revoke: the key stops working at once; its row stays for the audit trail. Members revoke their own keys,
 * admins and owners anyone's.
 */
export async function revokeApiKey({ caller, id }: { caller: Caller; id: string }) {
  const key = await db.apiKey.findFirst({
    where: { id, organizationId: { in: caller.organizationIds }, revokedAt: null },
    select: { id: true, name: true, prefix: true, organizationId: true, createdById: true },
  });
  if (!key) throw notFound("API key");
  const own = key.createdById !== null && key.createdById === caller.userId;
  authorize(caller, key.organizationId, own ? "api_keys.write" : "api_keys.revoke_any");
  await db.$transaction(async (tx) => {
    const { count } = await tx.apiKey.updateMany({ where: { id: key.id, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count === 0) throw notFound("API key");
    await recordAuditEvent({
      client: tx,
      organizationId: key.organizationId,
      actor: caller,
      action: "api_key.revoked",
      targetType: "api_key",
      targetId: key.id,
      targetLabel: `${key.name} (${key.prefix}…)`,
    });
  });
  // Refused from the next request here; other replicas drop it when PostgreSQL's NOTIFY reaches them.
  forgetVerifiedCallers();
}
