import { json, readBody, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { ApiKeyCreateSchema, IdSchema, PaginationSchema } from "@/lib/schemas";
import { createApiKey, listApiKeys } from "@/server/api-keys/api-keys";
import { actingOrganization } from "@/server/tenancy/caller";

const CreateSchema = ApiKeyCreateSchema.extend({ organizationId: IdSchema.optional() });

// POST /api/v1/api-keys - create an API key (role defaults to the caller's, never above it); the secret is in this reply only
export const POST = withCaller(async ({ req, caller }) => {
  const input = await readBody(req, CreateSchema);
  const organizationId = actingOrganization(caller, input.organizationId);
  const { apiKey, key } = await createApiKey({ caller, organizationId, name: input.name, role: input.role });
  return json({ apiKey, key }, 201);
});

// GET /api/v1/api-keys - the organization's active API keys (prefixes only)
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema.extend({ organizationId: IdSchema.optional() }));
  const { items, nextCursor } = await listApiKeys({ organizationIds: [caller.organizationId], pagination });
  return json({ apiKeys: items, nextCursor });
});
