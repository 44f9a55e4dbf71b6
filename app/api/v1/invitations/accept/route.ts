import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { InvitationAcceptSchema } from "@/lib/schemas";
import { acceptInvitation } from "@/server/invitations/accept-invitation";

// POST /api/v1/invitations/accept - the signed-in user the invitation was sent to joins its organization
export const POST = withCaller(async ({ req, caller }) => {
  const { token } = await readBody(req, InvitationAcceptSchema);
  return json(await acceptInvitation({ caller, token }));
});
