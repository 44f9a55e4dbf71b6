import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { clientAddress } from "@/app/_lib/client-address";
import { PasswordChangeSchema } from "@/lib/schemas";
import { changePassword } from "@/server/account/change-password";

// POST /api/v1/account/password - the signed-in user changes their password (current one required)
export const POST = withCaller(async ({ req, caller }) => {
  const input = await readBody(req, PasswordChangeSchema);
  await changePassword({ caller, ...input, address: clientAddress(req) });
  return json({ changed: true });
});
