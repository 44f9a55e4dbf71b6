import { json, readBody } from "@/app/_lib/http";
import { withoutAuth } from "@/app/_lib/route";
import { clientAddress } from "@/app/_lib/client-address";
import { PasswordResetSchema } from "@/lib/schemas";
import { resetPassword } from "@/server/account/password-reset";

// POST /api/v1/account/password-reset - set a new password with a one-time reset link's token
export const POST = withoutAuth(async ({ req }) => {
  const { token, newPassword } = await readBody(req, PasswordResetSchema);
  const user = await resetPassword({ token, newPassword, address: clientAddress(req) });
  return json({ user: { id: user.id, email: user.email }, reset: true });
});
