import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { revokeApiKey } from "@/server/api-keys/api-keys";

// DELETE /api/v1/api-keys/{id} - revoke an API key at once (one's own; admins and owners anyone's)
export const DELETE = withCaller<{ id: string }>(async ({ params, caller }) => {
  await revokeApiKey({ caller, id: params.id });
  return json({ apiKey: { id: params.id }, revoked: true });
});
