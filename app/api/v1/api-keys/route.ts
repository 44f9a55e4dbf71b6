import { json, readBody, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { ApiKeyCreateSchema, IdSchema, PaginationSchema } from "@/lib/schemas";
import { createApiKey, listApiKeys } from "@/server/api-keys/api-keys";
import { actingOrganization } from "@/server/tenancy/caller";

const CreateSchema = ApiKeyCreateSchema.extend({ organizationId: IdSchema.optional() });

// POST /api/v1/api-keys - create an API key; the secret is in this reply only
export const POST = withCaller(async ({ req, caller }) => {
  const input = await readBody(req, CreateSchema);
  const organizationId = actingOrganization(caller, input.organizationId);
  const { apiKey, key } = await createApiKey({ organizationId, name: input.name, createdById: caller.userId });
  return json({ apiKey: { ...apiKey, organizationId }, key }, 201);
});

// GET /api/v1/api-keys - the caller's active API keys (prefixes only)
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  const { items, nextCursor } = await listApiKeys({ organizationIds: caller.organizationIds, pagination });
  return json({ apiKeys: items, nextCursor });
});
