import { db } from "../db";
import { notFound } from "../errors";
import { generateApiKeySecret } from "../auth/api-key-secret";
import type { Pagination } from "@/lib/schemas";
import { page } from "../util/paginate";

const PUBLIC_FIELDS = { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true } as const;

/** A new key in the organization; the secret is in the result once and never stored. */
export async function createApiKey({
  organizationId,
  name,
  createdById,
}: {
  organizationId: string;
  name: string;
  createdById: string | null;
}) {
  const { secret, prefix, hash } = generateApiKeySecret();
  const apiKey = await db.apiKey.create({
    data: { organizationId, name, prefix, hash, createdById },
    select: PUBLIC_FIELDS,
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

/** Revoke: the key stops working at once; its row stays for the audit trail. */
export async function revokeApiKey({ organizationIds, id }: { organizationIds: string[]; id: string }) {
  const { count } = await db.apiKey.updateMany({
    where: { id, organizationId: { in: organizationIds }, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) throw notFound("API key");
}
